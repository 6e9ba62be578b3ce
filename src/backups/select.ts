import type {Inventory} from '../inventory/schema/index.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {backupLocations, type BackupLocation} from './locations.js'
import type {RestorePoint} from './restore-points.js'

/** The backup locations a command works on: all, or the one `--database` names. */
export function selectBackupLocations(inventory: Inventory, database?: string): BackupLocation[] {
  const all = backupLocations(inventory)
  const chosen = database ? all.filter((l) => l.database === database) : all
  if (chosen.length === 0)
    throw new CtlError(
      database ? `The inventory has no ${database} cluster, so no ${database} backups` : 'The inventory has no database cluster with backups',
      {
        exitCode: ExitCode.cannotRun,
        code: 'backup.no-location',
        hint: 'Backups belong to databases.galera, databases.patroni, and databases.redis and databases.rabbitmq when they set backupDir (each with its backupNode).',
      },
    )
  return chosen
}

/**
 * The backup a restore runbook brings back: the one `path` names, else the newest complete one; an
 * unfinished or damaged one is refused (there is nothing to check it against). Pure.
 */
export function chooseRestorePoint(points: readonly RestorePoint[], options: {path?: string; env: string; take: string}): RestorePoint {
  const usable = (p: RestorePoint) => p.complete && !p.problem
  const list = `ctl backup list ${options.env} --database ${points[0]?.database ?? ''}`.trim()
  if (options.path === undefined) {
    const newest = [...points].filter(usable).sort((a, b) => b.takenAt.localeCompare(a.takenAt))[0]
    if (!newest)
      throw new CtlError('There is no complete backup to restore', {
        exitCode: ExitCode.cannotRun,
        code: 'backup.none',
        hint: `Take one when the cluster is healthy (${options.take}); ${list} shows what is there.`,
      })
    return newest
  }
  const named = points.find((p) => p.path === options.path)
  if (!named)
    throw new CtlError(`No backup at ${options.path}`, {
      exitCode: ExitCode.cannotRun,
      code: 'backup.not-found',
      hint: `${list} shows every backup with its path.`,
    })
  if (!usable(named))
    throw new CtlError(`${named.path} is ${named.problem ? `damaged (${named.problem})` : 'not a complete backup (no record)'}: not restoring it`, {
      exitCode: ExitCode.cannotRun,
      code: 'backup.incomplete',
      hint: `${list} shows the complete ones.`,
    })
  return named
}
