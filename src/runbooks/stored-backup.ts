import {backupLocations, type BackupLocation} from '../backups/locations.js'
import {listRestorePointsCommand, parseRestorePoints, type RestorePoint} from '../backups/restore-points.js'
import {chooseRestorePoint} from '../backups/select.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {quote} from '../lib/shell.js'
import type {StepContext} from './types.js'

/** What the Redis and RabbitMQ backup and restore runbooks share: their backup location, and the backup a restore brings back. */

type Component = 'redis' | 'rabbitmq'

/** The component's backup location; refused when the inventory keeps no backups of it (no backupDir). */
export function storedLocation(loaded: StepContext<unknown>['loaded'], component: Component): BackupLocation {
  const found = backupLocations(loaded.inventory).find((l) => l.database === component)
  if (!found)
    throw new CtlError(`databases.${component} has no backupDir: this inventory keeps no ${component === 'redis' ? 'Redis' : 'RabbitMQ'} backups`, {
      exitCode: ExitCode.cannotRun,
      code: `${component}.no-backup-dir`,
      hint: `Set databases.${component}.backupDir (and backupNode) in the inventory (docs/BACKUPS.md).`,
    })
  return found
}

export interface CheckedBackup {
  node: string
  point: RestorePoint
  /** What it held when it was taken (its record's counts). */
  recorded: Record<string, number>
}

/**
 * The backup to restore (`requested`, else the newest complete one) listed on the backup node, its
 * file read again there: refused unless its sha256 is still the one recorded when it was taken.
 */
export async function checkedBackup(ctx: Pick<StepContext<unknown>, 'loaded' | 'run'>, component: Component, requested?: string): Promise<CheckedBackup> {
  const where = storedLocation(ctx.loaded, component)
  const node = where.nodes[0]!
  const listed = await ctx.run(node, listRestorePointsCommand([where]), {timeoutMs: 60_000})
  if (listed.code !== 0) throw new CtlError(`Listing ${where.dir} failed: ${lastLines(listed, 2, ' ')}`, {host: node, code: 'backup.unlisted'})
  const point = chooseRestorePoint(parseRestorePoints(node, listed.stdout, [where]).points, {
    ...(requested ? {path: requested} : {}),
    env: ctx.loaded.env,
    take: `ctl runbook ${where.runbook} ${ctx.loaded.env}`,
  })
  const read = await ctx.run(node, {script: `sha256sum < ${quote(point.path)} | cut -c1-64; cat ${quote(`${point.path}.json`)}`}, {timeoutMs: 600_000})
  const [sha = '', ...record] = read.stdout.split('\n')
  if (read.code !== 0 || sha.trim() !== point.checksum)
    throw new CtlError(`${point.path} does not match its record (sha256 ${sha.trim() || '?'}, recorded ${point.checksum}): not restoring it`, {
      exitCode: ExitCode.cannotRun,
      host: node,
      code: 'backup.tampered',
      hint: `ctl backup verify ${ctx.loaded.env} --database ${component}; choose another with --path (ctl backup list ${ctx.loaded.env} --database ${component}).`,
    })
  let recorded: Record<string, number> = {}
  try {
    recorded = (JSON.parse(record.join('\n')) as {rowCounts?: Record<string, number>}).rowCounts ?? {}
  } catch {
    // The listing read the same record: it parsed there.
  }
  return {node, point, recorded}
}
