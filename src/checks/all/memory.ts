import {cannotRun} from '../remote-errors.js'
import {nodeTargets} from '../targets.js'
import type {CheckDefinition, Finding} from '../types.js'

/** MemAvailable and MemTotal in MiB from /proc/meminfo. */
export function parseMeminfo(text: string): {availableMb: number; totalMb: number} | undefined {
  const kb = (key: string) => Number(text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1])
  const available = kb('MemAvailable')
  const total = kb('MemTotal')
  if (!Number.isFinite(available) || !Number.isFinite(total)) return undefined
  return {availableMb: Math.floor(available / 1024), totalMb: Math.floor(total / 1024)}
}

export function judgeMemory(memory: {availableMb: number; totalMb: number}, minimumMb: number): Finding {
  const detail = `${memory.availableMb} MiB available of ${memory.totalMb} (minimum ${minimumMb})`
  if (memory.availableMb < minimumMb)
    return {status: 'fail', detail, hint: 'Find what uses the memory (`ps aux --sort=-rss | head`), or lower limits.minMemAvailableMb.'}
  return {status: 'pass', detail}
}

export const memoryCheck: CheckDefinition = {
  id: 'memory',
  title: 'Available memory above the inventory limit',
  needs: 'SSH, /proc/meminfo (Linux)',
  readsHostFacts: 'target',
  targets: (inventory) => nodeTargets(inventory),
  async run(ctx, target) {
    const {meminfo} = await ctx.hostFacts(target.node!)
    const memory = meminfo.code === 0 ? parseMeminfo(meminfo.output) : undefined
    if (!memory) throw cannotRun(`/proc/meminfo unreadable: ${meminfo.output.slice(0, 200)}`, {host: target.name, hint: 'ctl expects Linux hosts.'})
    return judgeMemory(memory, ctx.inventory.limits.minMemAvailableMb)
  },
}
