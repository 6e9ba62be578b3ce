import type {Inventory} from '../inventory/schema/index.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {backupLocations, type BackupLocation} from './locations.js'

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
        hint: 'Backups belong to databases.galera and databases.patroni (their backupDir and backupNode).',
      },
    )
  return chosen
}
