import {gatherRestorePoints} from '../../backups/gather.js'
import {backupLocations, type BackupLocation} from '../../backups/locations.js'
import {parseRestorePoints, type RestorePoint} from '../../backups/restore-points.js'
import type {Inventory, InventoryNode} from '../../inventory/schema/index.js'
import {cannotRun, outputTail, partResult} from '../remote-errors.js'
import type {CheckDefinition, CheckTarget, Finding} from '../types.js'
import {formatAge} from './backups.js'

/**
 * The offsite copies (backups.offsite) must be fresh too: losing the site loses everything newer
 * than the newest copy in S3. MariaDB's are restic snapshots, listed from the backup node with the
 * offsite keys on stdin; pgBackRest's are its repo2 backups, in the repository node's listing the
 * backups check reads already.
 */

const offsiteLocation = (inventory: Inventory, name: string): BackupLocation | undefined =>
  backupLocations(inventory).find((l) => (name === 'mariadb' ? l.restic !== undefined : l.database === 'pgbackrest'))

/** The newest complete offsite restore point must be younger than the offsite RPO. Pure. */
export function judgeOffsite(env: string, database: string, points: readonly RestorePoint[], nowMs: number, rpoHours: number): Finding {
  const offsite = points.filter((p) => p.offsite && p.complete && !p.problem).sort((a, b) => b.takenAt.localeCompare(a.takenAt))
  const take = database === 'mariadb' ? `ctl runbook mariadb-backup ${env}` : `ctl runbook pgbackrest-backup ${env} --repo offsite`
  const newest = offsite[0]
  if (!newest) return {status: 'fail', detail: `no complete ${database} backup offsite`, hint: `Ship one: ${take}; ctl backup list ${env} shows them`}
  const age = Math.max(0, Math.round((nowMs - Date.parse(newest.takenAt)) / 1000))
  const detail = `newest offsite ${newest.path}, ${formatAge(age)} old (offsite RPO ${rpoHours} h)`
  if (age > rpoHours * 3600)
    return {status: 'fail', detail, hint: `Losing the site now loses more than the RPO: ${take}, and check the schedule (ctl backup schedule ${env}).`}
  return {status: 'pass', detail}
}

export const backupsOffsiteCheck: CheckDefinition = {
  id: 'backups-offsite',
  title: 'Latest offsite copy (backups.offsite) younger than the offsite RPO',
  needs: 'SSH to the backup nodes, restic there (MariaDB); backups.offsite, backups.offsite.rpoHours (default backups.rpoHours)',
  facts: ['backups'],
  targets: (inventory): CheckTarget[] =>
    inventory.backups.offsite ? ['mariadb', 'pgbackrest'].filter((name) => offsiteLocation(inventory, name)).map((name) => ({name})) : [],
  skipReason: 'no backups.offsite in the inventory',
  async run(ctx, target) {
    const location = offsiteLocation(ctx.inventory, target.name)!
    const node = ctx.inventory.nodes.find((n) => n.name === location.nodes[0]) as InventoryNode
    if (!ctx.isReachable(node)) throw cannotRun(`${node.name} is not reachable over SSH`, {host: node.name, hint: 'See the ssh check.'})
    const rpoHours = ctx.inventory.backups.offsite!.rpoHours ?? ctx.inventory.backups.rpoHours
    let points: RestorePoint[]
    if (location.restic) {
      const gathered = await gatherRestorePoints(ctx.remote, ctx.loaded, [location])
      const problem = gathered.unlisted[0]
      if (problem) throw cannotRun(problem.error, {host: node.name, ...(problem.hint ? {hint: problem.hint} : {})})
      points = gathered.points
    } else {
      const part = (await ctx.hostFacts(node)).backups[location.database] ?? {code: -1, output: 'not gathered'}
      const result = partResult(node.name, 'list pgBackRest backups', part)
      if (result.code !== 0) throw cannotRun(`cannot list the pgBackRest repositories on ${node.name}: ${outputTail(result)}`, {host: node.name})
      // The facts' listing starts with the node's clock (see the backups check).
      points = parseRestorePoints(node.name, result.stdout.split('\n').slice(1).join('\n'), [location]).points
    }
    return judgeOffsite(ctx.inventory.name, target.name, points, Date.now(), rpoHours)
  },
}
