import {localBackupLocations, type BackupLocation} from '../../backups/locations.js'
import type {InventoryNode} from '../../inventory/schema/index.js'
import {renderCommand} from '../../lib/shell.js'
import {listRestorePointsCommand, mergeRestorePoints, parseRestorePoints} from '../../backups/restore-points.js'
import {cannotRun, outputTail, partResult} from '../remote-errors.js'
import type {CheckDefinition, CheckTarget, Finding} from '../types.js'

/** The node's clock, then the location's restore points (src/backups/restore-points.ts). */
export function newestBackupScript(location: BackupLocation): {script: string} {
  return {script: `date +%s; ${renderCommand(listRestorePointsCommand([location]))}`}
}

export interface NewestBackup {
  node: string
  /** Age in seconds of the newest complete backup (its start), by the node's own clock. */
  ageSeconds?: number
  path?: string
  missingDir?: boolean
  /** Unfinished or damaged backups newer than it: they do not count. */
  ignored?: number
  /** Age in seconds of the newest restore drill that passed (`ctl backup verify`), on any backup here. */
  drillAgeSeconds?: number
}

/** The newest complete, undamaged restore point on the node: a failed run's leftovers never pass for a backup. */
export function parseNewestBackup(node: string, stdout: string, location: BackupLocation): NewestBackup | undefined {
  const [nowLine = '', ...rest] = stdout.trim().split('\n')
  const now = Number(nowLine)
  if (!/^\d+$/.test(nowLine)) return undefined
  const listing = parseRestorePoints(node, rest.join('\n'), [location])
  if (listing.missingDirs.length > 0) return {node, missingDir: true}
  const points = mergeRestorePoints([listing.points])
  const newestGood = points.findIndex((p) => p.complete && !p.problem)
  const ignored = newestGood < 0 ? points.length : newestGood
  const drilled = points.filter((p) => p.lastDrill?.outcome === 'passed').map((p) => Date.parse(p.lastDrill!.verifiedAt))
  const drillAt = drilled.length > 0 ? Math.max(...drilled) : undefined
  const found: NewestBackup = {
    node,
    ...(ignored > 0 ? {ignored} : {}),
    ...(drillAt !== undefined && Number.isFinite(drillAt) ? {drillAgeSeconds: Math.max(0, Math.round(now - drillAt / 1000))} : {}),
  }
  const point = points[newestGood]
  if (!point) return found
  return {...found, ageSeconds: Math.max(0, Math.round(now - Date.parse(point.takenAt) / 1000)), path: point.path}
}

export function formatAge(seconds: number): string {
  if (seconds >= 3 * 86_400) return `${(seconds / 86_400).toFixed(1)} d`
  return seconds < 3600 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`
}

/**
 * The newest complete backup over the nodes searched must be younger than the RPO; with
 * `drillMaxAgeDays`, a restore drill must also have passed within that many days.
 */
export function judgeBackups(env: string, location: BackupLocation, found: readonly NewestBackup[], rpoHours: number, drillMaxAgeDays?: number): Finding {
  const newest = found.filter((f) => f.ageSeconds !== undefined).sort((a, b) => a.ageSeconds! - b.ageSeconds!)[0]
  const take = `ctl runbook ${location.runbook} ${env}`
  if (!newest) {
    const where = found
      .map((f) => `${f.node}:${location.dir}${f.missingDir ? ' (missing)' : f.ignored ? ` (${f.ignored} unfinished or damaged)` : ' (empty)'}`)
      .join(', ')
    return {
      status: 'fail',
      detail: `no complete ${location.database} backup found in ${where}`,
      hint: `Take one now: ${take}; ctl backup list ${env} shows them`,
    }
  }
  const ignored = found.reduce((n, f) => n + (f.ignored ?? 0), 0)
  const detail = `newest ${newest.node}:${newest.path}, ${formatAge(newest.ageSeconds!)} old (RPO ${rpoHours} h)${ignored > 0 ? `; ${ignored} newer unfinished or damaged, not counted` : ''}`
  if (newest.ageSeconds! > rpoHours * 3600)
    return {status: 'fail', detail, hint: `Older than the RPO: take one (${take}) and check why the scheduled backup did not run.`}
  if (drillMaxAgeDays === undefined) return {status: 'pass', detail}
  const drill = Math.min(...found.map((f) => f.drillAgeSeconds ?? Infinity))
  const verify = `ctl backup verify ${env} --database ${location.database}`
  if (drill === Infinity) return {status: 'fail', detail: `${detail}; no restore drill has passed`, hint: `A backup never restored is not proven: ${verify}`}
  const drillDetail = `${detail}; last passed drill ${formatAge(drill)} ago (at most ${drillMaxAgeDays} d)`
  if (drill > drillMaxAgeDays * 86_400) return {status: 'fail', detail: drillDetail, hint: `Run a restore drill: ${verify}`}
  return {status: 'pass', detail: drillDetail}
}

export const backupsCheck: CheckDefinition = {
  id: 'backups',
  title: 'Latest complete backup younger than the RPO (and a recent restore drill, when asked)',
  needs: "SSH, GNU coreutils on the backup nodes (read with the ssh check's host facts); databases.*.backupDir, backups.rpoHours, backups.drillMaxAgeDays",
  facts: ['backups'],
  // The offsite copies are judged by the backups-offsite check.
  targets: (inventory): CheckTarget[] => localBackupLocations(inventory).map((l) => ({name: l.database})),
  skipReason: 'no database with backups in the inventory',
  async run(ctx, target) {
    const location = localBackupLocations(ctx.inventory).find((l) => l.database === target.name)!
    const nodes = location.nodes.map((n) => ctx.inventory.nodes.find((x) => x.name === n)).filter((n): n is InventoryNode => Boolean(n))
    const reachable = nodes.filter((n) => ctx.isReachable(n))
    if (reachable.length === 0) throw cannotRun(`none of ${location.nodes.join(', ')} is reachable over SSH`, {hint: 'See the ssh check.'})
    const found = await Promise.all(
      reachable.map(async (node) => {
        const part = (await ctx.hostFacts(node)).backups[location.database] ?? {code: -1, output: 'not gathered'}
        const result = partResult(node.name, 'find backups', part)
        const parsed = result.code === 0 ? parseNewestBackup(node.name, result.stdout, location) : undefined
        if (!parsed) throw cannotRun(`cannot list ${location.dir} on ${node.name}: ${outputTail(result)}`, {host: node.name})
        return parsed
      }),
    )
    return judgeBackups(ctx.inventory.name, location, found, ctx.inventory.backups.rpoHours, ctx.inventory.backups.drillMaxAgeDays)
  },
}
