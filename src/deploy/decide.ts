import type {GateVerdict} from './gate.js'
import type {ServicePlan} from './plan.js'
import type {ServiceOutcome} from './service-rollout.js'
import {currentTasks, type ServiceView, type TaskView} from './swarm-state.js'

/**
 * Where a rolling update (or the rollback after it) stands, from Swarm's view of the service and
 * ctl's gate verdict on each current task. Pure, so every case is a row in a unit test.
 *
 * ctl holds Swarm after every batch (update_config.delay is a day, see compose.ts): `advance` tells
 * the watcher to let Swarm replace the next batch, `finish` to release the hold once every replica
 * runs the new spec, passed its gate and stayed healthy for the monitor window.
 */

export type RolloutDecision =
  | {kind: 'waiting'; healthy: number; wanted: number}
  | {kind: 'advance'; healthy: number; wanted: number}
  | {kind: 'finish'}
  | {kind: 'done'}
  | {kind: 'failed'; reason: string; task?: TaskView; swarmRollingBack: boolean}

/** A gate verdict, with when it passed (the monitor window runs from there). */
export type TimedVerdict = GateVerdict & {passedAt?: number}

export interface StepState {
  now: number
  /** The monitor window after the last pass, before the rollout counts as done. */
  monitorMs: number
  /** How many new tasks there were when ctl last let Swarm go on (it is not told twice). */
  advancedAt?: number
  /** ctl released Swarm's hold already. */
  finishing?: boolean
}

// 'complete' too: a task of the new spec that exits by itself (or is stopped as unhealthy, which the app
// answers by draining and exiting 0) has failed while Swarm still wanted it.
const FAILED_TASK_STATES = new Set(['failed', 'rejected', 'orphaned', 'complete'])

/** How long a slot may keep two running tasks after every task passed before ctl lets Swarm go on. */
const STUCK_SLOT_MS = 15_000

/** A task of the present spec that died: Swarm marks it failed/rejected and stops wanting it. */
function failedCurrentTask(view: ServiceView, before: ReadonlySet<string>): TaskView | undefined {
  return view.tasks.find((t) => t.current && FAILED_TASK_STATES.has(t.state) && !before.has(t.id))
}

/** Swarm has no update running (never had one, finished it, or ctl's last step cleared it). */
function updateSettled(state: string | undefined): boolean {
  return state === undefined || state === 'completed' || state === 'rollback_completed'
}

/** `before`: ids of the tasks that existed when the rollout began (their old failures are not ours). */
export function decideRollout(
  view: ServiceView,
  gates: ReadonlyMap<string, TimedVerdict>,
  before: ReadonlySet<string> = new Set(),
  step: StepState = {now: 0, monitorMs: 0},
): RolloutDecision {
  if (view.updateState?.startsWith('rollback')) {
    return {
      kind: 'failed',
      reason: `Swarm is rolling back: ${view.updateMessage ?? view.updateState}`,
      task: failedCurrentTaskBeforeRollback(view, gates, before),
      swarmRollingBack: true,
    }
  }
  if (view.updateState === 'paused') {
    return {
      kind: 'failed',
      reason: `Swarm paused the update: ${view.updateMessage ?? 'paused'}`,
      task: failedCurrentTask(view, before),
      swarmRollingBack: false,
    }
  }
  const dead = failedCurrentTask(view, before)
  if (dead)
    return {kind: 'failed', reason: `task ${dead.id.slice(0, 12)} ${dead.state}${dead.error ? `: ${dead.error}` : ''}`, task: dead, swarmRollingBack: false}
  const tasks = currentTasks(view)
  for (const task of tasks) {
    const verdict = gates.get(task.id)
    if (verdict?.state === 'failed')
      return {kind: 'failed', reason: `task ${task.id.slice(0, 12)} failed the /health gate: ${verdict.reason}`, task, swarmRollingBack: false}
  }
  const passed = tasks.filter((t) => t.state === 'running' && gates.get(t.id)?.state === 'passed')
  const healthy = passed.length
  // Every slot down to one task Swarm wants running: no old task of a batch is still waiting to stop.
  const slotsClean = view.tasks.filter((t) => t.desiredState === 'running').length === view.replicas
  const allNew = healthy >= view.replicas && tasks.length === view.replicas && slotsClean
  const lastPass = Math.max(0, ...passed.map((t) => gates.get(t.id)?.passedAt ?? 0))
  const monitored = step.now - lastPass >= step.monitorMs
  if (allNew && monitored) {
    if (updateSettled(view.updateState)) return {kind: 'done'}
    if (!step.finishing) return {kind: 'finish'}
  }
  // Swarm replaced a batch and every task of the new spec passed: it holds until ctl lets it go on.
  const batchPassed = healthy === tasks.length && tasks.length < view.replicas && slotsClean
  if (view.updateState === 'updating' && batchPassed && tasks.length > (step.advancedAt ?? -1)) return {kind: 'advance', healthy, wanted: view.replicas}
  // Every task passed long ago, yet a slot still runs two (left over from a paused update or rollback
  // being repaired): Swarm, held, would wait for ctl forever. Its updater tidies such a slot when it
  // runs again, so ctl lets it go on, once for this count.
  const slotStuck =
    healthy === tasks.length && tasks.length >= view.replicas && !slotsClean && lastPass > 0 && step.now - lastPass >= Math.max(step.monitorMs, STUCK_SLOT_MS)
  if (view.updateState === 'updating' && slotStuck && tasks.length > (step.advancedAt ?? -1)) return {kind: 'advance', healthy, wanted: view.replicas}
  return {kind: 'waiting', healthy, wanted: view.replicas}
}

/** During Swarm's own rollback the failed task is no longer current; name the newest one that failed. */
function failedCurrentTaskBeforeRollback(view: ServiceView, gates: ReadonlyMap<string, GateVerdict>, before: ReadonlySet<string>): TaskView | undefined {
  const suspects = view.tasks.filter((t) => !t.current && !before.has(t.id) && (FAILED_TASK_STATES.has(t.state) || gates.get(t.id)?.state === 'failed'))
  return suspects.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]
}

/**
 * The rollback (ctl updates the service back to the old spec) is over when Swarm has finished and
 * every replica of the old spec passes the gate, with no other task left running.
 */
export function decideRollback(view: ServiceView, gates: ReadonlyMap<string, GateVerdict>): RolloutDecision {
  if (view.updateState === 'rollback_paused' || view.updateState === 'paused') {
    return {
      kind: 'failed',
      reason: `Swarm paused the ${view.updateState === 'paused' ? 'update back to the old version' : 'rollback'}: ${view.updateMessage ?? view.updateState}`,
      swarmRollingBack: true,
    }
  }
  const tasks = currentTasks(view)
  const healthy = tasks.filter((t) => t.state === 'running' && gates.get(t.id)?.state === 'passed').length
  const slotsClean = view.tasks.filter((t) => t.desiredState === 'running').length === view.replicas
  if (updateSettled(view.updateState) && healthy >= view.replicas && tasks.length === view.replicas && slotsClean) return {kind: 'done'}
  return {kind: 'waiting', healthy, wanted: view.replicas}
}

/**
 * How a whole deploy ended: ok when every changed service was updated (repaired when each change was a
 * repair of a held or paused service, no-changes when there was nothing to roll); rolled-back when
 * every service that failed is back on its old version; failed otherwise (something is left to look at).
 */
export function deployOutcome(
  changes: readonly Pick<ServicePlan, 'action'>[],
  services: readonly Pick<ServiceOutcome, 'outcome'>[],
): 'ok' | 'repaired' | 'no-changes' | 'rolled-back' | 'failed' {
  const failed = services.filter((s) => s.outcome !== 'updated')
  if (failed.length > 0) return failed.every((s) => s.outcome === 'rolled-back') ? 'rolled-back' : 'failed'
  if (changes.length === 0) return 'no-changes'
  return changes.every((c) => c.action === 'repair') ? 'repaired' : 'ok'
}

/**
 * Why a service cannot be rolled back to Swarm's previous spec (used when the release history has
 * nothing for it): Swarm drops it once it has rolled back, and one kept after a rollback would be
 * the failed release itself.
 */
export function rollbackRefusal(view: Pick<ServiceView, 'previousImage' | 'updateState'>): {code: string; message: string} | undefined {
  if (view.updateState === 'rollback_completed') {
    return {code: 'deploy.already-rolled-back', message: 'was already rolled back: going "back" again would bring back the release it was rolled back from'}
  }
  if (!view.previousImage) return {code: 'deploy.no-previous', message: 'has no previous spec to roll back to'}
  return undefined
}
