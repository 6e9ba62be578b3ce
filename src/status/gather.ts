import {runChecks} from '../checks/run.js'
import {selectChecks} from '../checks/registry.js'
import {orderResults} from '../checks/render.js'
import type {CheckResult} from '../checks/types.js'
import {engineCall} from '../docker/index.js'
import {lockNode} from '../deploy/lock.js'
import {readReleases} from '../deploy/releases-io.js'
import type {Release} from '../deploy/releases.js'
import {parseServiceJson, type ServiceView} from '../deploy/swarm-state.js'
import {parseHistory, readHistoryCommand, type HistoryLine} from '../history/shared.js'
import {findNode, type LoadedInventory} from '../inventory/load.js'
import {toCtlError} from '../lib/errors.js'
import {withTimeout} from '../lib/limit.js'
import {listLocksScript, parseLockList} from '../locks/lock.js'
import {planRunbookLock, type RunbookCluster} from '../runbooks/lock.js'
import type {SshPool} from '../ssh/pool.js'
import {connectManager, listSwarmNodes} from '../swarm/cluster.js'
import type {SwarmNodeView} from '../swarm/views.js'
import {STATUS_CHECKS, type LockSighting, type StatusFacts} from './judge.js'

/**
 * Reads what `ctl status` shows, all at once over the shared SSH pool: the fast checks (one
 * connection and one facts command per host), the swarm's nodes and services from a manager's
 * Engine API, the release history, the locks on the hosts that hold them, the newest history lines.
 * Never throws for a part that cannot be read: a check becomes an error row, the rest is left empty.
 */

/** How many of the newest shared-history lines the status shows. */
const RECENT_LINES = 5
/** Time budget of each read beside the checks. */
const READ_BUDGET_MS = 10_000

type Json = Record<string, any>

async function readSwarm(pool: SshPool, loaded: LoadedInventory): Promise<{nodes: SwarmNodeView[]; services: ServiceView[]}> {
  const manager = await connectManager(pool, loaded.inventory)
  const [nodes, services, tasks] = await Promise.all([
    listSwarmNodes(manager),
    engineCall(manager.node, 'list services', () => manager.docker.listServices(), READ_BUDGET_MS) as Promise<Json[]>,
    engineCall(manager.node, 'list tasks', () => manager.docker.listTasks({filters: {'desired-state': ['running']}}), READ_BUDGET_MS) as Promise<Json[]>,
  ])
  return {
    nodes,
    services: services.map((s) =>
      parseServiceJson(
        s,
        tasks.filter((t) => t.ServiceID === s.ID),
      ),
    ),
  }
}

/** The hosts that may hold this environment's locks: the deploy lock's node and every cluster's run-lock hosts. */
function lockHosts(loaded: LoadedInventory): string[] {
  const clusters: RunbookCluster[] = ['galera', 'patroni', 'redis', 'etcd', 'rabbitmq']
  const places = clusters.flatMap((c) => planRunbookLock(`${c}-status`, loaded).places)
  return [...new Set([lockNode(loaded).name, ...places.map((p) => p.node)])]
}

/** Read on every lock host at once, alongside the checks (the connections are shared); a host that cannot be read adds none. */
async function readLocks(pool: SshPool, loaded: LoadedInventory): Promise<LockSighting[]> {
  const found = await Promise.all(
    lockHosts(loaded)
      .map(async (name) => {
        const r = await pool.run(findNode(loaded, name), listLocksScript(loaded.inventory.deployLock.dir), {step: 'list locks', timeoutMs: READ_BUDGET_MS})
        return r.code === 0 ? parseLockList(r.stdout).map((l) => ({node: name, ...l})) : []
      })
      .map((p) => p.catch(() => [])),
  )
  return found.flat()
}

async function readRecent(pool: SshPool, loaded: LoadedInventory): Promise<HistoryLine[]> {
  const r = await pool.run(lockNode(loaded), readHistoryCommand(loaded.inventory.deployLock.dir, loaded.env, RECENT_LINES), {
    step: 'read the shared history',
    timeoutMs: READ_BUDGET_MS,
  })
  return r.code === 0 ? parseHistory(r.stdout) : []
}

/** A part that could not be read is left empty; the checks say why (a host down, no manager). */
async function orEmpty<T>(work: Promise<T>, empty: T): Promise<T> {
  return withTimeout(work, READ_BUDGET_MS + 5000, () => new Error('timed out')).catch(() => empty)
}

/** Rows of one check kept from an earlier round of `--watch`, with when they were read. */
export interface ReusedRows {
  check: (typeof STATUS_CHECKS)[number]
  rows: CheckResult[]
  readAt: number
}

export async function gatherStatus(loaded: LoadedInventory, pool: SshPool, options: {timeoutMs?: number; reuse?: ReusedRows} = {}): Promise<StatusFacts> {
  const started = Date.now()
  const reuse = options.reuse
  const checks = selectChecks(STATUS_CHECKS.filter((id) => id !== reuse?.check))
  const kept = (reuse?.rows ?? []).map((r) => ({...r, detail: `${r.detail} (read ${Math.round((started - reuse!.readAt) / 1000)} s ago)`, durationMs: 0}))
  const rowsRead = runChecks(loaded, pool, checks, {concurrency: loaded.inventory.ssh.concurrency, timeoutMs: options.timeoutMs}).then((rows) =>
    orderResults([...rows, ...kept], STATUS_CHECKS),
  )
  let swarmError: string | undefined
  const swarmRead = withTimeout(readSwarm(pool, loaded), READ_BUDGET_MS + 5000, () => new Error('timed out')).catch((error) => {
    swarmError = toCtlError(error).message
    return undefined
  })
  const releasesRead = orEmpty<Release[]>(readReleases(pool, loaded), [])
  const recentRead = orEmpty(readRecent(pool, loaded), [])
  const locksRead = orEmpty(readLocks(pool, loaded), [])
  const [rows, swarm, releases, recent, locks] = await Promise.all([rowsRead, swarmRead, releasesRead, recentRead, locksRead])
  return {
    env: loaded.env,
    inventory: loaded.inventory,
    now: new Date(),
    durationMs: Date.now() - started,
    rows,
    ...(swarm ? {swarm} : {}),
    ...(swarmError ? {swarmError} : {}),
    releases,
    locks,
    recent,
  }
}
