import {backupLocations, type BackupLocation} from '../../backups/locations.js'
import type {InventoryNode} from '../../inventory/schema/index.js'
import {quote} from '../../lib/shell.js'
import {cannotRun, outputTail, partResult} from '../remote-errors.js'
import type {CheckDefinition, CheckTarget, Finding} from '../types.js'

/** The node's clock, then the newest entry of the directory as `<mtime epoch> <path>` (nothing when empty; `nodir` when missing). */
export function newestBackupScript(dir: string): {script: string} {
  const d = quote(dir)
  return {script: `date +%s; if [ -d ${d} ]; then find ${d} -mindepth 1 -maxdepth 1 -printf '%T@ %p\\n' | sort -n | tail -n 1; else echo nodir; fi`}
}

export interface NewestBackup {
  node: string
  /** Age in seconds, by the node's own clock. */
  ageSeconds?: number
  path?: string
  missingDir?: boolean
}

export function parseNewestBackup(node: string, stdout: string): NewestBackup | undefined {
  const [nowLine, entry] = stdout.trim().split('\n')
  const now = Number(nowLine)
  if (!Number.isFinite(now)) return undefined
  if (entry === 'nodir') return {node, missingDir: true}
  const m = entry && /^(\d+(?:\.\d+)?) (.+)$/.exec(entry)
  if (!m) return {node}
  return {node, ageSeconds: Math.max(0, Math.round(now - Number(m[1]))), path: m[2]}
}

function formatAge(seconds: number): string {
  return seconds < 3600 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`
}

/** The newest backup over the nodes searched must be younger than the RPO. */
export function judgeBackups(env: string, location: BackupLocation, found: readonly NewestBackup[], rpoHours: number): Finding {
  const newest = found.filter((f) => f.ageSeconds !== undefined).sort((a, b) => a.ageSeconds! - b.ageSeconds!)[0]
  const take = `ctl runbook ${location.runbook} ${env}`
  if (!newest) {
    const where = found.map((f) => `${f.node}:${location.dir}${f.missingDir ? ' (missing)' : ' (empty)'}`).join(', ')
    return {status: 'fail', detail: `no ${location.database} backup found in ${where}`, hint: `Take one now: ${take}`}
  }
  const detail = `newest ${newest.node}:${newest.path}, ${formatAge(newest.ageSeconds!)} old (RPO ${rpoHours} h)`
  if (newest.ageSeconds! > rpoHours * 3600)
    return {status: 'fail', detail, hint: `Older than the RPO: take one (${take}) and check why the scheduled backup did not run.`}
  return {status: 'pass', detail}
}

export const backupsCheck: CheckDefinition = {
  id: 'backups',
  title: 'Latest backup younger than the RPO',
  needs: "SSH, GNU find on the backup nodes (read with the ssh check's host facts); databases.*.backupDir, backups.rpoHours",
  facts: ['backups'],
  targets: (inventory): CheckTarget[] => backupLocations(inventory).map((l) => ({name: l.database})),
  skipReason: 'no database with backups in the inventory',
  async run(ctx, target) {
    const location = backupLocations(ctx.inventory).find((l) => l.database === target.name)!
    const nodes = location.nodes.map((n) => ctx.inventory.nodes.find((x) => x.name === n)).filter((n): n is InventoryNode => Boolean(n))
    const reachable = nodes.filter((n) => ctx.isReachable(n))
    if (reachable.length === 0) throw cannotRun(`none of ${location.nodes.join(', ')} is reachable over SSH`, {hint: 'See the ssh check.'})
    const found = await Promise.all(
      reachable.map(async (node) => {
        const part = (await ctx.hostFacts(node)).backups[location.database] ?? {code: -1, output: 'not gathered'}
        const result = partResult(node.name, 'find backups', part)
        const parsed = result.code === 0 ? parseNewestBackup(node.name, result.stdout) : undefined
        if (!parsed) throw cannotRun(`cannot list ${location.dir} on ${node.name}: ${outputTail(result)}`, {host: node.name})
        return parsed
      }),
    )
    return judgeBackups(ctx.inventory.name, location, found, ctx.inventory.backups.rpoHours)
  },
}
