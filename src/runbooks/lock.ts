import {toCtlError} from '../lib/errors.js'
import type {LoadedInventory} from '../inventory/load.js'
import {findNode} from '../inventory/load.js'
import type {RemoteRunner} from '../ssh/pool.js'
import {lockNode} from '../deploy/lock.js'
import {hostname} from 'node:os'
import {abandonedByResumedRun, type LockView} from '../locks/lock.js'
import {HeldLocks, majorityRefusal, newLockInfo, processAlive, releaseNote, takeMajority, type LockTarget} from '../locks/lock-run.js'
import type {RunbookRunResult} from './types.js'

/**
 * The run lock of runbooks: one run per cluster at a time, whoever runs it and from which machine.
 * It lives on the platform (ctl's locks, `src/locks`): for a database runbook on a majority of that
 * cluster's hosts (the first manager may be the host that is down), otherwise on the deploy lock's node.
 */

export type RunbookCluster = 'galera' | 'patroni' | 'redis' | 'etcd' | 'rabbitmq'

/** Which database cluster a runbook works on: runbooks of one cluster exclude each other. */
export function runbookCluster(runbook: string): RunbookCluster | undefined {
  if (/^(galera|mariadb)-/.test(runbook)) return 'galera'
  if (/^(patroni|pg)-/.test(runbook)) return 'patroni'
  if (/^redis-/.test(runbook)) return 'redis'
  if (/^etcd-/.test(runbook)) return 'etcd'
  if (/^rabbitmq-/.test(runbook)) return 'rabbitmq'
  return undefined
}

export interface RunbookLockPlan {
  /** What the lock guards, e.g. `the galera cluster of lab` (in messages). */
  subject: string
  /** Node and lock name per host; held when a majority of them is taken. */
  places: {node: string; name: string}[]
}

/**
 * Where a runbook's lock lives. The lock's name carries the node, so hosts that share a file system
 * (like the lab's) still hold one lock each.
 */
export function planRunbookLock(runbook: string, loaded: LoadedInventory): RunbookLockPlan {
  const cluster = runbookCluster(runbook)
  const {databases} = loaded.inventory
  const members = cluster ? databases[cluster]?.members : undefined
  if (cluster && members && members.length > 0) {
    const nodes = [...new Set(members.map((m) => m.node))]
    return {subject: `the ${cluster} cluster of ${loaded.env}`, places: nodes.map((node) => ({node, name: `runbook-${cluster}-${loaded.env}.${node}`}))}
  }
  return {subject: `${runbook} on ${loaded.env}`, places: [{node: lockNode(loaded).name, name: `runbook-${runbook}-${loaded.env}`}]}
}

/** Takes the run lock of `runbook` for run `runId` (refused with exit 2 naming the holder), kept alive by a heartbeat. */
export async function acquireRunbookLock(remote: RemoteRunner, loaded: LoadedInventory, runbook: string, runId: string): Promise<HeldLocks> {
  const plan = planRunbookLock(runbook, loaded)
  const {dir, runbookStaleAfterMinutes} = loaded.inventory.deployLock
  const targets: LockTarget[] = plan.places.map((p) => ({node: findNode(loaded, p.node), dir, name: p.name}))
  const info = newLockInfo(loaded.env, `${runbook} run ${runId}`, {run: runId})
  const what = `run lock of ${plan.subject}`
  const here = hostname()
  const abandoned = (view: LockView) => abandonedByResumedRun(view.info, {runId, here, alive: processAlive})
  const taken = await takeMajority(remote, targets, info, {what, staleAfterMinutes: runbookStaleAfterMinutes, step: 'take run lock', abandoned})
  if ('held' in taken) return taken.held.startHeartbeat()
  throw majorityRefusal(
    {subject: `${runbook} on ${loaded.env}`, code: 'runbook.locked', members: targets.length, taken: taken.taken, staleAfterMinutes: runbookStaleAfterMinutes},
    taken.refusals,
  )
}

/** A run whose lock could not be released: the run's own error stays, the release failure is added. */
export function withReleaseFailure(result: RunbookRunResult, releaseError: unknown): RunbookRunResult {
  if (result.error) return {...result, error: {...result.error, hint: [result.error.hint, releaseNote(releaseError)].filter(Boolean).join('\n')}}
  const e = toCtlError(releaseError)
  return {...result, error: {message: e.message, hint: e.hint, host: e.host, step: e.step, code: e.code, exitCode: e.exitCode}}
}
