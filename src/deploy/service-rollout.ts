import type {Inventory, InventoryNode, InventoryService} from '../inventory/schema/index.js'
import type {SshPool} from '../ssh/pool.js'
import type {ManagerHandle} from '../swarm/cluster.js'
import {gatePacingSeconds, restingUpdateConfig, rollbackUpdateConfig} from './compose.js'
import {readService, readServiceSpec, updateServiceSpec} from './swarm-io.js'
import {describeState, type ServiceView} from './swarm-state.js'
import {describeGate, watchService, type WatchOutcome} from './watch.js'

/**
 * One service through a rolling update held by ctl after every batch and let go only when the batch
 * passed ctl's gate; on a failure ctl itself rolls back (updates the service to the spec it had
 * before, stop-first where host ports leave no free node), drives that to a clean end, and gates
 * every replica of the old version. Used by deploy, reload and rollback.
 */

type ServiceOutcomeKind = 'updated' | 'rolled-back' | 'rollback-failed' | 'failed'

interface GateReport {
  task: string
  node?: string
  url?: string
  verdict: string
  /** From the task first seen to its gate passing: start + passForSeconds. */
  secondsToPass?: number
  lastAnswers: string[]
}

export interface ServiceOutcome {
  service: string
  swarmName: string
  outcome: ServiceOutcomeKind
  durationMs: number
  /** Why the rollout stopped. */
  reason?: string
  /** The task that failed, with its last /health answers. */
  failedTask?: GateReport
  /** Gates of the new tasks (rollout) and, after a failure, of the old ones (rollback). */
  gates: GateReport[]
  rollbackGates?: GateReport[]
  /** Swarm's image for the service at the end. */
  finalImage: string
  /** When the rollback did not end clean: the state the service is in and the command that finishes it. */
  leftState?: string
  finishWith?: string
  /** From the start to ctl's decision that the release failed (ms). */
  decidedAfterMs?: number
}

/** What a failed rollout goes back to: the spec read before it started (none for a new service). */
export interface RollbackPoint {
  spec?: Record<string, any>
  hostPorts: readonly number[]
  /** The command that finishes the job by hand, should ctl not get there. */
  finishWith: string
}

export interface RollContext {
  pool: SshPool
  manager: ManagerHandle
  inventory: Inventory
  nodesById: ReadonlyMap<string, InventoryNode>
  report?: (text: string) => void
}

/** Time budget of a whole rollout: every replica gets its gate deadline plus Swarm's pacing. */
function rolloutTimeoutMs(service: InventoryService, replicas: number): number {
  const health = service.health!
  return (Math.max(1, replicas) * (health.deadlineSeconds + gatePacingSeconds(service) + 10) + 30) * 1000
}

/** The failed task for the report: ctl's gate on it (with its last answers) and what Swarm says of it. */
function failedGate(outcome: WatchOutcome, nodesById: ReadonlyMap<string, InventoryNode>): GateReport | undefined {
  if (outcome.decision.kind !== 'failed') return undefined
  const task = outcome.decision.task
  const gate = task ? outcome.gates.find((g) => g.task === task.id) : outcome.gates.find((g) => g.verdict.state === 'failed')
  if (!task && !gate) return undefined
  const report: GateReport = gate ? describeGate(gate) : {task: task!.id.slice(0, 12), verdict: '', lastAnswers: []}
  if (task && gate?.verdict.state !== 'failed') {
    report.verdict = `swarm: task ${task.state}${task.error ? ` (${task.error})` : ''}${report.lastAnswers.length ? '; ctl gate had not decided yet' : ''}`
  } else if (task?.error) {
    // e.g. a task never started: "no suitable node (host-mode port already in use on 3 nodes)".
    report.verdict += `; swarm: task ${task.state} (${task.error})`
  }
  report.node ??= task?.nodeId ? nodesById.get(task.nodeId)?.name : undefined
  return report
}

/** Watches a rollout ctl started (stack deploy, reload, rollback --to), letting Swarm go on batch by batch. */
export async function followRollout(
  ctx: RollContext,
  service: InventoryService,
  swarmName: string,
  before: ReadonlySet<string>,
  replicas: number,
  back: RollbackPoint,
): Promise<ServiceOutcome> {
  const started = Date.now()
  const rollout = await watchService({
    ...ctx,
    service,
    swarmName,
    phase: 'rollout',
    before,
    timeoutMs: rolloutTimeoutMs(service, replicas),
    advance: () => updateServiceSpec(ctx.manager, swarmName, `let ${swarmName} go on`, (spec) => spec),
    finish: () =>
      updateServiceSpec(ctx.manager, swarmName, `release the hold on ${swarmName}`, (spec) => ({...spec, UpdateConfig: restingUpdateConfig(service)})),
  })
  const gates = rollout.gates.map(describeGate)
  if (rollout.decision.kind === 'done') {
    return {service: service.name, swarmName, outcome: 'updated', durationMs: Date.now() - started, gates, finalImage: rollout.view.image}
  }
  const decidedAfterMs = Date.now() - started
  const reason = rollout.decision.reason
  const failedTask = failedGate(rollout, ctx.nodesById)
  if (!back.spec) {
    return {
      service: service.name,
      swarmName,
      outcome: 'failed',
      durationMs: decidedAfterMs,
      decidedAfterMs,
      reason: `${reason} (there is no earlier version to go back to)`,
      failedTask,
      gates,
      finalImage: rollout.view.image,
      leftState: describeState(rollout.view),
      finishWith: back.finishWith,
    }
  }
  ctx.report?.(`${swarmName}: ${reason}; rolling back`)
  const rolledBack = await driveRollback(ctx, service, swarmName, replicas, back)
  return {
    ...rolledBack,
    outcome: rolledBack.outcome === 'rolled-back' ? 'rolled-back' : 'rollback-failed',
    durationMs: Date.now() - started,
    decidedAfterMs,
    reason: rolledBack.outcome === 'rolled-back' ? reason : `${reason}; then the rollback: ${rolledBack.reason}`,
    failedTask,
    gates,
    rollbackGates: rolledBack.gates,
  }
}

/** Attempts at getting a rollback to a clean end (each restarts Swarm's updater on what is left). */
const ROLLBACK_ATTEMPTS = 3

/**
 * ctl's rollback: the service updated back to `back.spec` (no hold, stop-first for host ports), every
 * replica gated, then Swarm's update settings put back to rest. A rollback Swarm pauses (a task that
 * cannot be placed, a node that refuses it) is started again; if it still does not end clean, the
 * outcome says in what state the service is and which command finishes it.
 */
async function driveRollback(ctx: RollContext, service: InventoryService, swarmName: string, replicas: number, back: RollbackPoint): Promise<ServiceOutcome> {
  const started = Date.now()
  let last: WatchOutcome | undefined
  for (let attempt = 1; attempt <= ROLLBACK_ATTEMPTS; attempt++) {
    await updateServiceSpec(ctx.manager, swarmName, `roll ${swarmName} back`, () => ({
      ...back.spec,
      UpdateConfig: rollbackUpdateConfig(service, back.hostPorts),
    }))
    last = await watchService({...ctx, service, swarmName, phase: 'rollback', timeoutMs: rolloutTimeoutMs(service, replicas)})
    if (last.decision.kind === 'done') break
    ctx.report?.(`${swarmName}: ${last.decision.reason}; driving the rollback again (${attempt}/${ROLLBACK_ATTEMPTS})`)
  }
  const gates = last!.gates.map(describeGate)
  if (last!.decision.kind !== 'done') {
    const view = await readService(ctx.manager, swarmName)
    return {
      service: service.name,
      swarmName,
      outcome: 'rollback-failed',
      durationMs: Date.now() - started,
      reason: last!.decision.reason,
      failedTask: failedGate(last!, ctx.nodesById),
      gates,
      finalImage: view.image,
      leftState: describeState(view),
      finishWith: back.finishWith,
    }
  }
  await updateServiceSpec(ctx.manager, swarmName, `settle ${swarmName}`, (spec) => ({...spec, UpdateConfig: restingUpdateConfig(service)}))
  return {service: service.name, swarmName, outcome: 'rolled-back', durationMs: Date.now() - started, gates, finalImage: last!.view.image}
}

/** Host-mode published ports of a service spec (they leave start-first no free node). */
function specHostPorts(spec: Record<string, any> | undefined): number[] {
  const ports = (spec?.EndpointSpec?.Ports ?? []) as {PublishMode?: string; PublishedPort?: number}[]
  return ports.filter((p) => p.PublishMode === 'host' && typeof p.PublishedPort === 'number').map((p) => p.PublishedPort!)
}

/** The spec a rollout starts from, read before ctl changes anything (`canGoBack` false: none to go back to). */
export async function rollbackPoint(ctx: RollContext, swarmName: string, finishWith: string, exists = true, canGoBack = true): Promise<RollbackPoint> {
  if (!exists) return {hostPorts: [], finishWith}
  const {spec} = await readServiceSpec(ctx.manager, swarmName)
  return {spec: canGoBack ? spec : undefined, hostPorts: specHostPorts(spec), finishWith}
}

/** Task ids that are history when a rollout starts (their failures are not this rollout's). */
export function historicTasks(view: ServiceView): Set<string> {
  return new Set(view.tasks.filter((t) => t.desiredState !== 'running').map((t) => t.id))
}
