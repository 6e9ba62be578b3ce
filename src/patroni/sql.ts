import {CtlError} from '../lib/errors.js'
import {shellCommand} from '../lib/shell.js'
import {dbnameArgs} from './database-name.js'
import type {RunOn} from './topology.js'
import {lastLines} from '../lib/output.js'

/**
 * psql on a node, against a PostgreSQL server (a member or the write endpoint). The password never
 * appears in the command: the script reads it from the first line of stdin, and psql reads the SQL
 * from the rest. Queries return one JSON value, so nothing depends on psql's table layout.
 */

export interface PgTarget {
  /** The node psql runs on. */
  node: string
  host: string
  port: number
  user: string
  database: string
}

/** `IFS= read -r` consumes exactly the first line of stdin (the password) and leaves the SQL to psql. */
const READ_PASSWORD = 'IFS= read -r p; if [ -n "$p" ]; then PGPASSWORD=$p; export PGPASSWORD; fi; PGCONNECT_TIMEOUT=5; export PGCONNECT_TIMEOUT'

/** The environment line shared by psql, pg_dump and pg_restore scripts (password from stdin). */
export function withPasswordFromStdin(argv: readonly string[]): {script: string} {
  return afterPasswordFromStdin(`exec ${shellCommand(argv)}`)
}

/** `script` (already built from quoted parts) with the password read from stdin first. */
export function afterPasswordFromStdin(script: string): {script: string} {
  return {script: `${READ_PASSWORD}; ${script}`}
}

export function connectionArgs(target: Pick<PgTarget, 'host' | 'port' | 'user'>): string[] {
  return ['-h', target.host, '-p', String(target.port), '-U', target.user]
}

export function buildPsql(target: PgTarget): {script: string} {
  return withPasswordFromStdin(['psql', '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', ...connectionArgs(target), ...dbnameArgs(target.database)])
}

/** A double-quoted SQL identifier: `app"x` → `"app""x"`. */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** A single-quoted SQL literal. */
export function sqlLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

export async function runSql(
  runOn: RunOn,
  target: PgTarget,
  password: string | undefined,
  sql: string,
  options: {step?: string; timeoutMs?: number} = {},
): Promise<string> {
  const r = await runOn(target.node, buildPsql(target), {stdin: `${password ?? ''}\n${sql}\n`, timeoutMs: options.timeoutMs ?? 30_000})
  if (r.code !== 0) {
    const detail = lastLines(r, 3, ' ')
    throw new CtlError(`SQL on ${target.host}:${target.port}/${target.database} failed: ${detail}`, {
      host: target.node,
      step: options.step,
      code: 'patroni.sql',
      hint: `Check that PostgreSQL answers on ${target.host}:${target.port} and that the inventory's databases.patroni user/password are right.`,
    })
  }
  return r.stdout.trim()
}

/** Runs a query that returns one JSON value (`select json_build_object(...)`) and parses it. */
export async function queryJson<T>(
  runOn: RunOn,
  target: PgTarget,
  password: string | undefined,
  sql: string,
  options: {step?: string; timeoutMs?: number} = {},
): Promise<T> {
  const out = await runSql(runOn, target, password, sql, options)
  try {
    return JSON.parse(out) as T
  } catch {
    throw new CtlError(`Unexpected reply from ${target.host}:${target.port}: ${out.slice(0, 200)}`, {
      host: target.node,
      step: options.step,
      code: 'patroni.sql-reply',
    })
  }
}

/** The leader's view of its replicas: pg_stat_replication with replay and flush lag in bytes. */
export const REPLICATION_SQL = `select coalesce(json_agg(r), '[]'::json) from (
  select application_name, state, client_addr::text as client_addr, sync_state,
         pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn)::bigint as flush_lag_bytes,
         pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint as replay_lag_bytes
  from pg_stat_replication) r`

/**
 * Proves the server accepts writes: assigning a transaction id is refused during recovery
 * ("cannot assign TransactionIds during recovery") and creates no object.
 */
export const WRITE_PROBE_SQL = `select json_build_object('recovery', pg_is_in_recovery(), 'xid', txid_current()::text, 'server', host(inet_server_addr()), 'port', inet_server_port())`

/** Where a replica's (or the leader's) WAL stands: the LSN a backup taken now reflects (timeline: Patroni's). */
export const POSITION_SQL = `select json_build_object('recovery', pg_is_in_recovery(),
  'lsn', (case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end)::text)`
