import {cannotRun, COMMAND_NOT_FOUND} from '../remote-errors.js'
import {nodeTargets} from '../targets.js'
import type {CheckDefinition, Finding} from '../types.js'

/** Available MiB from `df -Pk` (POSIX format: the last line's 4th column is available 1K blocks). */
export function parseDfAvailableMb(output: string): number | undefined {
  const last = output.trim().split('\n').at(-1)?.trim().split(/\s+/)
  const kb = Number(last?.[3])
  return last && last.length >= 6 && Number.isFinite(kb) ? Math.floor(kb / 1024) : undefined
}

export function judgeDiskFree(availableMb: number, minimumMb: number, path: string): Finding {
  const detail = `${availableMb} MiB free on ${path} (minimum ${minimumMb})`
  if (availableMb < minimumMb)
    return {status: 'fail', detail, hint: `Free space on ${path} (old images: \`docker system prune\`, logs, backups) or lower limits.minDiskFreeMb.`}
  if (availableMb < minimumMb * 1.5) return {status: 'warn', detail: `${detail}: close to the limit`, hint: `Plan to free space on ${path}.`}
  return {status: 'pass', detail}
}

export const diskFreeCheck: CheckDefinition = {
  id: 'disk-free',
  title: 'Free disk space above the inventory limit',
  needs: "SSH, df (read with the ssh check's host facts)",
  readsHostFacts: 'target',
  targets: (inventory) => nodeTargets(inventory),
  async run(ctx, target) {
    const {diskPath, minDiskFreeMb} = ctx.inventory.limits
    const {df} = await ctx.hostFacts(target.node!)
    if (df.code === COMMAND_NOT_FOUND) throw cannotRun(`df not found on ${target.name}`, {host: target.name})
    const available = df.code === 0 ? parseDfAvailableMb(df.output) : undefined
    if (available === undefined)
      throw cannotRun(`free space of ${diskPath} unreadable: ${df.output.slice(0, 200)}`, {
        host: target.name,
        hint: 'Check that limits.diskPath in the inventory exists on the node.',
      })
    return judgeDiskFree(available, minDiskFreeMb, diskPath)
  },
}
