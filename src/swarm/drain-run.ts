import {listTasks, type ManagerHandle} from './cluster.js'
import {assessDrain, type DrainProgress} from './drain.js'
import type {ServiceView} from './views.js'

export interface DrainWaitOptions {
  timeoutMs: number
  pollMs?: number
  onProgress?: (progress: DrainProgress) => void
}

/**
 * Polls the manager until the drained node's tasks run elsewhere. Stops early when all that is left
 * is tasks the scheduler says it cannot place (seen twice in a row: it does not change its mind).
 */
export async function waitForDrain(
  manager: ManagerHandle,
  nodeId: string,
  moving: readonly ServiceView[],
  options: DrainWaitOptions,
): Promise<DrainProgress & {timedOut: boolean}> {
  const deadline = Date.now() + options.timeoutMs
  let stuckPolls = 0
  for (;;) {
    const tasks = await listTasks(manager, moving.length > 0 ? {service: moving.map((s) => s.id)} : {})
    const progress = assessDrain(nodeId, moving, tasks)
    options.onProgress?.(progress)
    if (progress.done) return {...progress, timedOut: false}
    stuckPolls = progress.waiting.length === 0 ? stuckPolls + 1 : 0
    if (stuckPolls >= 2) return {...progress, timedOut: false}
    if (Date.now() >= deadline) return {...progress, timedOut: true}
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000))
  }
}
