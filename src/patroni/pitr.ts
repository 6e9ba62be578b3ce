import {PG_COUNT_ROWS_SQL} from '../backups/drill.js'
import {quote, type RemoteCommand} from '../lib/shell.js'
import {pgbackrestCommand, type PgbackrestSettings} from './pgbackrest-config.js'

/**
 * Point-in-time restore into a scratch server on the repository node: pgBackRest restores the chosen
 * backup into a new directory and recovers to the target time, then PostgreSQL starts there on a
 * socket in that directory only (no network), never archiving (it would write into the production
 * repository), with its own pg_hba (local peer only). Production is never touched. Pure.
 */

export interface ScratchServer {
  node: string
  dir: string
  port: number
  pgVersion: string
}

export function scratchServer(s: PgbackrestSettings, stamp: string, pgVersion: string): ScratchServer {
  return {node: s.repoNode, dir: `${s.scratchDir}/ctl-pitr-${s.stanza}-${stamp}`, port: s.scratchPort, pgVersion}
}

const binDir = (v: string) => `/usr/lib/postgresql/${v}/bin`

/** Exit codes of the restore script, so the runbook can say which part failed. */
export const PITR_EXIT = {noServer: 3, exists: 4, restore: 5, start: 6, recovery: 7} as const

function asUser(s: PgbackrestSettings, argv: string[]): string {
  return ['runuser', '-u', s.osUser, '--', ...argv].map(quote).join(' ')
}

function serverOptions(x: ScratchServer): string {
  const setting = (k: string, v: string) => `-c ${k}=${quote(v)}`
  return [
    setting('port', String(x.port)),
    setting('listen_addresses', ''),
    setting('unix_socket_directories', x.dir),
    setting('hba_file', `${x.dir}/pg_hba.conf`),
    setting('ident_file', `${x.dir}/pg_ident.conf`),
    setting('archive_mode', 'off'),
    setting('cluster_name', 'ctl-pitr'),
  ].join(' ')
}

/** A time as PostgreSQL's recovery_target_time reads it (it refuses ISO 8601's "T" and "Z"): UTC, milliseconds. */
export function recoveryTargetTime(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace('Z', '+00')
}

/** The restore (pgBackRest), then the server started and waited for until recovery has ended (promoted at the target). */
export function pitrRestoreCommand(s: PgbackrestSettings, x: ScratchServer, backupLabel: string, target: string, recoveryTimeoutSeconds = 3600): RemoteCommand {
  const dir = quote(x.dir)
  const data = `${x.dir}/data`
  const pgCtl = `${binDir(x.pgVersion)}/pg_ctl`
  const psql = asUser(s, [`${binDir(x.pgVersion)}/psql`, '-X', '-h', x.dir, '-p', String(x.port), '-d', 'postgres', '-At', '-c', 'select pg_is_in_recovery()'])
  const restore = pgbackrestCommand(
    s,
    s.repoNode,
    `--pg1-path=${data}`,
    '--reset-pg1-host',
    '--type=time',
    `--target=${recoveryTargetTime(target)}`,
    '--target-action=promote',
    '--archive-mode=off',
    `--set=${backupLabel}`,
    'restore',
  )
  const log = quote(`${x.dir}/server.log`)
  return {
    script: [
      `[ -x ${quote(pgCtl)} ] || { echo "no PostgreSQL ${x.pgVersion} server on this node (${pgCtl})" >&2; exit ${PITR_EXIT.noServer}; }`,
      `[ ! -e ${dir} ] || { echo "${x.dir} exists already" >&2; exit ${PITR_EXIT.exists}; }`,
      `install -d -m 700 -o ${quote(s.osUser)} -g ${quote(s.osUser)} ${dir}`,
      `${restore.map(quote).join(' ')} || exit ${PITR_EXIT.restore}`,
      `printf 'local all all peer\\n' > ${quote(`${x.dir}/pg_hba.conf`)} && : > ${quote(`${x.dir}/pg_ident.conf`)} && chown ${quote(s.osUser)}: ${quote(`${x.dir}/pg_hba.conf`)} ${quote(`${x.dir}/pg_ident.conf`)}`,
      `${asUser(s, [pgCtl, '-D', data, '-l', `${x.dir}/server.log`, '-w', '-t', String(recoveryTimeoutSeconds), '-o', serverOptions(x), 'start'])} > /dev/null || { tail -n 5 ${log} >&2; exit ${PITR_EXIT.start}; }`,
      `i=0; until [ "$(${psql} 2> /dev/null)" = f ]; do i=$((i+1)); if [ $i -gt ${recoveryTimeoutSeconds * 2} ] || ! ${asUser(s, [pgCtl, '-D', data, 'status'])} > /dev/null; then tail -n 5 ${log} >&2; exit ${PITR_EXIT.recovery}; fi; sleep 0.5; done`,
      `grep -E 'recovery stopping|last completed transaction|selected new timeline' ${log} | tail -n 3`,
    ].join('\n'),
  }
}

/** Rows of every table in every database of the scratch server: `rows<TAB>db.schema.table<TAB>n` (parseDrillOutput reads them). */
export function scratchRowCountsCommand(s: PgbackrestSettings, x: ScratchServer): RemoteCommand {
  const psql = (...args: string[]) => asUser(s, [`${binDir(x.pgVersion)}/psql`, '-X', '-h', x.dir, '-p', String(x.port), '-At', ...args])
  return {
    script: [
      "tab=$(printf '\\t'); dbs=$(mktemp) || exit 1",
      `${psql('-d', 'postgres', '-c', 'select datname from pg_database where datallowconn and not datistemplate order by 1')} > "$dbs" || { rm -f "$dbs"; exit 1; }`,
      // PGDATABASE is taken as a name, never as connection settings.
      `while IFS= read -r db; do PGDATABASE=$db ${psql('-c', PG_COUNT_ROWS_SQL)} -F "$tab" | while IFS= read -r line; do printf 'rows\\t%s.%s\\n' "$db" "$line"; done; done < "$dbs"`,
      'rm -f "$dbs"',
      `printf 'done\\n'`,
    ].join('\n'),
  }
}

/** How the operator stops and removes the scratch server when done with it. */
export function scratchCleanupCommand(s: PgbackrestSettings, x: ScratchServer): RemoteCommand {
  return {script: `${asUser(s, [`${binDir(x.pgVersion)}/pg_ctl`, '-D', `${x.dir}/data`, '-m', 'fast', '-w', 'stop'])}; rm -rf ${quote(x.dir)}`}
}
