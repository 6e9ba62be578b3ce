import type {Inventory, InventoryNode, InventoryService} from '../inventory/schema/index.js'
import type {SshPool} from '../ssh/pool.js'
import type {ManagerHandle} from '../swarm/cluster.js'
import {gatePacingSeconds} from './compose.js'
import {serviceRollbackArgv} from './docker.js'
import {describeGate, watchService, type WatchOutcome} from './watch.js'

/**
 * One service through Swarm's rolling update under ctl's gate, and on a failed gate: Swarm's own
 * rollback (`docker service rollback`, unless Swarm already started it), then the gate again on the
 * old version until every replica is healthy. Used by deploy, reload and rollback.
 */

export type ServiceOutcomeKind = 'updated' | 'rolled-back' | 'rollback-failed' | 'failed'

export interface GateReport {
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
}

export interface RollContext {
  pool: SshPool
  manager: ManagerHandle
  inventory: Inventory
  nodesById: ReadonlyMap<string, InventoryNode>
  report?: (text: string) => void
}

/** Time budget of a whole rollout: every replica gets its gate deadline plus Swarm's pacing. */
export function rolloutTimeoutMs(service: InventoryService, replicas: number): number {
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

/** Watches a rollout Swarm has started (after stack deploy or a forced update) and handles failure. */
/** `canRollBack` is false for a service just created: it has no previous spec to go back to. */
export async function followRollout(ctx: RollContext, service: InventoryService, swarmName: string, before: ReadonlySet<string>, replicas: number, canRollBack = true): Promise<ServiceOutcome> {
  const started = Date.now()
  const rollout = await watchService({...ctx, service, swarmName, phase: 'rollout', before, timeoutMs: rolloutTimeoutMs(service, replicas)})
  const gates = rollout.gates.map(describeGate)
  if (rollout.decision.kind === 'done') {
    return {service: service.name, swarmName, outcome: 'updated', durationMs: Date.now() - started, gates, finalImage: rollout.view.image}
  }
  const reason = rollout.decision.reason
  const failedTask = failedGate(rollout, ctx.nodesById)
  if (!canRollBack) return {service: service.name, swarmName, outcome: 'failed', durationMs: Date.now() - started, reason: `${reason} (a new service has no previous version to roll back to)`, failedTask, gates, finalImage: rollout.view.image}
  ctx.report?.(`${swarmName}: ${reason}; rolling back`)
  if (!rollout.decision.swarmRollingBack) {
    await ctx.pool.run(ctx.manager.node, serviceRollbackArgv(ctx.manager.node, swarmName), {check: true, step: `rollback ${swarmName}`})
  }
  const back = await followRollback(ctx, service, swarmName, replicas)
  return {
    service: service.name,
    swarmName,
    outcome: back.outcome === 'rolled-back' ? 'rolled-back' : 'rollback-failed',
    durationMs: Date.now() - started,
    reason: back.outcome === 'rolled-back' ? reason : `${reason}; then the rollback: ${back.reason}`,
    failedTask,
    gates,
    rollbackGates: back.gates,
    finalImage: back.finalImage,
  }
}

/** Waits for a rollback Swarm is doing, gating every replica of the old spec. */
export async function followRollback(ctx: RollContext, service: InventoryService, swarmName: string, replicas: number): Promise<ServiceOutcome> {
  const started = Date.now()
  const back = await watchService({...ctx, service, swarmName, phase: 'rollback', timeoutMs: rolloutTimeoutMs(service, replicas)})
  const gates = back.gates.map(describeGate)
  if (back.decision.kind === 'done') return {service: service.name, swarmName, outcome: 'rolled-back', durationMs: Date.now() - started, gates, finalImage: back.view.image}
  return {service: service.name, swarmName, outcome: 'rollback-failed', durationMs: Date.now() - started, reason: back.decision.reason, failedTask: failedGate(back, ctx.nodesById), gates, finalImage: back.view.image}
}
