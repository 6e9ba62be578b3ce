import type {LabHost} from '../types.js'
import {mariadbPaths, mariadbServerCnf, type GaleraPaths} from './galera-files.js'

/**
 * Files of the backup host's MariaDB async replica (seed 000: backups come from a dedicated replica
 * of the Galera cluster, so the cluster carries no backup load). Same layout and control script as a
 * Galera member, under `<stateDir>/mariadb-replica`.
 */

/** The SQL user the replica connects to its Galera source as; its password is generated into `.lab/`. */
export const REPLICATION_USER = 'ctl_repl'
export const REPLICATION_PASSWORD_FILE = '.lab/galera-replication-password'

export function replicaPaths(host: LabHost): GaleraPaths {
  return mariadbPaths(host, 'mariadb-replica')
}

/**
 * A plain (non-Galera) mariadbd: read-only, its own server_id, binary logs of what it applies
 * (log_slave_updates), and replication started again after a restart (the master info is kept in its
 * datadir).
 */
export function replicaCnf(host: LabHost): string {
  const p = replicaPaths(host)
  // server_id distinct from every Galera member's (their host index).
  return `${mariadbServerCnf(host, p, 100 + host.index, 'packages/lab/src/components/backup-replica-files.ts')}relay_log=${p.base}/relay/relay-bin
read_only=ON
`
}

/** The GTID position of a mariabackup backup: xtrabackup_binlog_info is `<file>\t<offset>\t<gtid list>`. */
export function parseBinlogInfoGtid(text: string): string | undefined {
  const fields = text.trim().split(/\s+/)
  const gtid = fields[2]
  return gtid && /^\d+-\d+-\d+(,\d+-\d+-\d+)*$/.test(gtid) ? gtid : undefined
}

/** An SQL string literal (the values are lab-generated, but quoted all the same). */
export function sqlString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
}
