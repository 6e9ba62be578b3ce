import type {Inventory} from '../inventory/schema/index.js'

/** Where one database's backups are kept: the directory the backup runbooks write, on these nodes. */
export interface BackupLocation {
  database: 'mariadb' | 'postgres'
  dir: string
  /** The backup node, else every member (the runbook dumps from whichever member it picks). */
  nodes: string[]
  runbook: string
}

export function backupLocations(inventory: Inventory): BackupLocation[] {
  const out: BackupLocation[] = []
  const {galera, patroni} = inventory.databases
  if (galera)
    out.push({
      database: 'mariadb',
      dir: galera.backupDir,
      nodes: galera.backupNode ? [galera.backupNode] : galera.members.map((m) => m.node),
      runbook: 'mariadb-backup',
    })
  if (patroni)
    out.push({
      database: 'postgres',
      dir: patroni.backupDir,
      nodes: patroni.backupNode ? [patroni.backupNode] : patroni.members.map((m) => m.node),
      runbook: 'pg-backup',
    })
  return out
}
