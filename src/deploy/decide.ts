import type {GateVerdict} from './gate.js'
import {currentTasks, type ServiceView, type TaskView} from './swarm-state.js'

/**
 * Where a rolling update (or the rollback after it) stands, from Swarm's view of the service and
 * ctl's gate verdict on each current task. Pure, so every case is a row in a unit test.
 */

export type RolloutDecision =
  | {kind: 'waiting'; healthy: number; wanted: number}
  | {kind: 'done'}
  | {kind: 'failed'; reason: string; task?: TaskView; swarmRollingBack: boolean}

// 'complete' too: a task of the new spec that exits by itself (or is stopped as unhealthy, which the app
// answers by draining and exiting 0) has failed while Swarm still wanted it.
const FAILED_TASK_STATES = new Set(['failed', 'rejected', 'orphaned', 'complete'])

/** A task of the present spec that died: Swarm marks it failed/rejected and stops wanting it. */
function failedCurrentTask(view: ServiceView, before: ReadonlySet<string>): TaskView | undefined {
  return view.tasks.find((t) => t.current && FAILED_TASK_STATES.has(t.state) && !before.has(t.id))
}

/** `before`: ids of the tasks that existed when the rollout began (their old failures are not ours). */
export function decideRollout(view: ServiceView, gates: ReadonlyMap<string, GateVerdict>, before: ReadonlySet<string> = new Set()): RolloutDecision {
  if (view.updateState?.startsWith('rollback')) {
    return {kind: 'failed', reason: `Swarm is rolling back: ${view.updateMessage ?? view.updateState}`, task: failedCurrentTaskBeforeRollback(view, gates, before), swarmRollingBack: true}
  }
  if (view.updateState === 'paused') {
    return {kind: 'failed', reason: `Swarm paused the update: ${view.updateMessage ?? 'paused'}`, task: failedCurrentTask(view, before), swarmRollingBack: false}
  }
  const dead = failedCurrentTask(view, before)
  if (dead) return {kind: 'failed', reason: `task ${dead.id.slice(0, 12)} ${dead.state}${dead.error ? `: ${dead.error}` : ''}`, task: dead, swarmRollingBack: false}
  const tasks = currentTasks(view)
  for (const task of tasks) {
    const verdict = gates.get(task.id)
    if (verdict?.state === 'failed') return {kind: 'failed', reason: `task ${task.id.slice(0, 12)} failed the /health gate: ${verdict.reason}`, task, swarmRollingBack: false}
  }
  const healthy = tasks.filter((t) => t.state === 'running' && gates.get(t.id)?.state === 'passed').length
  const settled = view.updateState === undefined || view.updateState === 'completed'
  if (settled && healthy >= view.replicas && tasks.length === view.replicas) return {kind: 'done'}
  return {kind: 'waiting', healthy, wanted: view.replicas}
}

/** During Swarm's own rollback the failed task is no longer current; name the newest one that failed. */
function failedCurrentTaskBeforeRollback(view: ServiceView, gates: ReadonlyMap<string, GateVerdict>, before: ReadonlySet<string>): TaskView | undefined {
  const suspects = view.tasks.filter((t) => !t.current && !before.has(t.id) && (FAILED_TASK_STATES.has(t.state) || gates.get(t.id)?.state === 'failed'))
  return suspects.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]
}

/** The rollback is over when Swarm says so and every replica of the old spec passes the gate again. */
export function decideRollback(view: ServiceView, gates: ReadonlyMap<string, GateVerdict>): RolloutDecision {
  if (view.updateState === 'rollback_paused') {
    return {kind: 'failed', reason: `Swarm paused the rollback: ${view.updateMessage ?? 'rollback_paused'}`, swarmRollingBack: true}
  }
  const tasks = currentTasks(view)
  const healthy = tasks.filter((t) => t.state === 'running' && gates.get(t.id)?.state === 'passed').length
  const settled = view.updateState === undefined || view.updateState === 'rollback_completed' || view.updateState === 'completed'
  if (settled && healthy >= view.replicas && tasks.length === view.replicas) return {kind: 'done'}
  return {kind: 'waiting', healthy, wanted: view.replicas}
}
