/**
 * The Galera cluster's async backup replica (seed 000): what `SHOW ALL SLAVES STATUS` says, and whether
 * that is healthy enough to take backups from (pure; the check and mariadb-backup judge with it).
 */

/**
 * Read in batch mode with column names: a header line and a line of tab-separated values per source.
 * SHOW ALL SLAVES STATUS, unlike SHOW SLAVE STATUS, has Gtid_Slave_Pos (what was applied); ctl reads
 * the first source (a backup replica has one).
 */
export const REPLICA_STATUS_SQL = 'SHOW ALL SLAVES STATUS'

export interface ReplicaStatus {
  /** False when the server has no replication configured at all. */
  configured: boolean
  source?: string
  ioRunning: string
  sqlRunning: string
  /** Seconds_Behind_Master; null when MariaDB does not know (a thread stopped). */
  secondsBehind: number | null
  lastIoError?: string
  lastSqlError?: string
  gtidSlavePos?: string
  /** MASTER_DELAY: applying is held back on purpose. */
  sqlDelaySeconds: number
}

export function parseReplicaStatus(text: string): ReplicaStatus {
  const [header, values] = text.split('\n')
  const names = header?.trim() ? header.split('\t') : []
  const cells = values?.split('\t') ?? []
  const fields = new Map(names.map((name, i) => [name, (cells[i] ?? '').trim()]))
  const behind = fields.get('Seconds_Behind_Master')
  const host = fields.get('Master_Host')
  return {
    configured: fields.size > 0 && Boolean(host),
    source: host ? `${host}:${fields.get('Master_Port') ?? '3306'}` : undefined,
    ioRunning: fields.get('Slave_IO_Running') ?? 'No',
    sqlRunning: fields.get('Slave_SQL_Running') ?? 'No',
    secondsBehind: behind === undefined || behind === '' || behind === 'NULL' ? null : Number(behind),
    lastIoError: fields.get('Last_IO_Error') || undefined,
    lastSqlError: fields.get('Last_SQL_Error') || undefined,
    gtidSlavePos: fields.get('Gtid_Slave_Pos') || undefined,
    sqlDelaySeconds: Number(fields.get('SQL_Delay') ?? 0) || 0,
  }
}

export interface ReplicaVerdict {
  ok: boolean
  detail: string
  hint?: string
}

/** Replicating, both threads running, no further behind than `maxLagSeconds`. */
export function judgeReplica(env: string, node: string, status: ReplicaStatus, maxLagSeconds: number): ReplicaVerdict {
  const restart = `Look at SHOW SLAVE STATUS on ${node}; when the cause is fixed, START SLAVE there (a replica that lost its position needs a new seed from a member's backup).`
  if (!status.configured)
    return {
      ok: false,
      detail: `no replication configured (${REPLICA_STATUS_SQL} is empty)`,
      hint: `Set it up from a Galera member (CHANGE MASTER TO ...); ${restart}`,
    }
  const threads = `IO ${status.ioRunning}, SQL ${status.sqlRunning}`
  if (status.ioRunning !== 'Yes' || status.sqlRunning !== 'Yes') {
    // The error of the first thread that stopped: receiving, else applying.
    const error = status.ioRunning !== 'Yes' ? status.lastIoError : status.lastSqlError
    return {ok: false, detail: `replication from ${status.source} stopped: ${threads}${error ? `; ${error}` : ''}`, hint: restart}
  }
  if (status.secondsBehind === null) return {ok: false, detail: `replication from ${status.source}: lag unknown (${threads})`, hint: restart}
  const delay = status.sqlDelaySeconds > 0 ? `, MASTER_DELAY ${status.sqlDelaySeconds} s` : ''
  const detail = `replicating from ${status.source}, ${status.secondsBehind} s behind (limit ${maxLagSeconds} s)${delay}, GTID ${status.gtidSlavePos ?? '?'}`
  if (status.secondsBehind > maxLagSeconds)
    return {
      ok: false,
      detail,
      hint: `A backup from it would miss the last ${status.secondsBehind} s of writes. ${status.sqlDelaySeconds > 0 ? `Remove the delay (STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE) on ${node}` : `Find what slows it on ${node} (load, disk, a long transaction)`}; ctl check run ${env} galera-replica to see it again.`,
    }
  return {ok: true, detail}
}
