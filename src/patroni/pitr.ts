import {PG_COUNT_ROWS_SQL} from '../backups/drill.js'
import {quote, shellCommand, type RemoteCommand} from '../lib/shell.js'
import {dbnameArgs} from './database-name.js'
import {afterPasswordFromStdin, connectionArgs, type PgTarget} from './sql.js'
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

/** What the scripts need of the repository: how to run pgBackRest on its node. */
type RepoAccess = Pick<PgbackrestSettings, 'osUser' | 'stanza' | 'repoNode' | 'configPath'>

export function scratchServer(s: PgbackrestSettings, stamp: string, pgVersion: string): ScratchServer {
  return {node: s.repoNode, dir: `${s.scratchDir}/ctl-pitr-${s.stanza}-${stamp}`, port: s.scratchPort, pgVersion}
}

const binDir = (v: string) => `/usr/lib/postgresql/${v}/bin`

/** Exit codes of the restore script, so the runbook can say which part failed. */
export const PITR_EXIT = {noServer: 3, exists: 4, restore: 5, start: 6, recovery: 7} as const

function asUser(s: RepoAccess, argv: string[]): string {
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

/**
 * How far recovery goes: a time (then promote), 'latest' (every archived WAL segment; the server
 * promotes itself at the end), or 'immediate' (the backup's own consistent point: a drill).
 */
type RecoveryTarget = string

function recoveryArgs(target: RecoveryTarget): string[] {
  if (target === 'latest') return []
  if (target === 'immediate') return ['--type=immediate', '--target-action=promote']
  return ['--type=time', `--target=${recoveryTargetTime(target)}`, '--target-action=promote']
}

/** The script's lines that restore into x.dir, start the server and wait for the end of recovery; `fail(stage)` is how each failure ends the script. */
function restoreAndStartLines(
  s: RepoAccess,
  x: ScratchServer,
  backupLabel: string,
  target: RecoveryTarget,
  fail: (stage: 'restore' | 'start' | 'recovery') => string,
  recoveryTimeoutSeconds = 3600,
  repo?: number,
): string[] {
  const data = `${x.dir}/data`
  const pgCtl = `${binDir(x.pgVersion)}/pg_ctl`
  const psql = asUser(s, [`${binDir(x.pgVersion)}/psql`, '-X', '-h', x.dir, '-p', String(x.port), '-d', 'postgres', '-At', '-c', 'select pg_is_in_recovery()'])
  const restore = pgbackrestCommand(
    s,
    s.repoNode,
    `--pg1-path=${data}`,
    '--reset-pg1-host',
    // Without --repo pgBackRest takes the first repository holding the backup set.
    ...(repo === undefined ? [] : [`--repo=${repo}`]),
    // The local repository: a failed read is not a network blip worth retrying (2 x 15 s); S3 keeps pgBackRest's retries.
    ...(repo === undefined || repo === 1 ? ['--job-retry=0'] : []),
    ...recoveryArgs(target),
    '--archive-mode=off',
    `--set=${backupLabel}`,
    'restore',
  )
  const log = quote(`${x.dir}/server.log`)
  const owner = quote(s.osUser)
  return [
    `${restore.map(quote).join(' ')} > ${quote(`${x.dir}/restore.log`)} 2>&1 || { tail -n 3 ${quote(`${x.dir}/restore.log`)} >&2; ${fail('restore')}; }`,
    `printf 'local all all peer\\n' > ${quote(`${x.dir}/pg_hba.conf`)} && : > ${quote(`${x.dir}/pg_ident.conf`)} && chown ${owner}: ${quote(`${x.dir}/pg_hba.conf`)} ${quote(`${x.dir}/pg_ident.conf`)}`,
    `${asUser(s, [pgCtl, '-D', data, '-l', `${x.dir}/server.log`, '-w', '-t', String(recoveryTimeoutSeconds), '-o', serverOptions(x), 'start'])} > /dev/null || { tail -n 5 ${log} >&2; ${fail('start')}; }`,
    `i=0; until [ "$(${psql} 2> /dev/null)" = f ]; do i=$((i+1)); if [ $i -gt ${recoveryTimeoutSeconds * 2} ] || ! ${asUser(s, [pgCtl, '-D', data, 'status'])} > /dev/null; then tail -n 5 ${log} >&2; ${fail('recovery')}; fi; sleep 0.5; done`,
  ]
}

/** The restore (pgBackRest), then the server started and waited for until recovery has ended (promoted at the target, or at the end of the archived WAL for 'latest'). */
export function pitrRestoreCommand(s: PgbackrestSettings, x: ScratchServer, backupLabel: string, target: RecoveryTarget, repo?: number): RemoteCommand {
  const dir = quote(x.dir)
  const pgCtl = `${binDir(x.pgVersion)}/pg_ctl`
  const exitCode = {restore: PITR_EXIT.restore, start: PITR_EXIT.start, recovery: PITR_EXIT.recovery}
  return {
    script: [
      `[ -x ${quote(pgCtl)} ] || { echo ${quote(`no PostgreSQL ${x.pgVersion} server on this node (${pgCtl})`)} >&2; exit ${PITR_EXIT.noServer}; }`,
      `[ ! -e ${dir} ] || { echo ${quote(`${x.dir} exists already`)} >&2; exit ${PITR_EXIT.exists}; }`,
      `install -d -m 700 -o ${quote(s.osUser)} -g ${quote(s.osUser)} ${dir}`,
      ...restoreAndStartLines(s, x, backupLabel, target, (stage) => `exit ${exitCode[stage]}`, 3600, repo),
      `grep -E 'recovery stopping|last completed transaction|selected new timeline' ${quote(`${x.dir}/server.log`)} | tail -n 3`,
    ].join('\n'),
  }
}

/** The lines that print `rows<TAB>db.schema.table<TAB>n` for every table of every database of the server (parseDrillOutput reads them). */
function rowCountLines(s: RepoAccess, x: ScratchServer, onFail: string): string[] {
  const psql = (...args: string[]) => asUser(s, [`${binDir(x.pgVersion)}/psql`, '-X', '-h', x.dir, '-p', String(x.port), '-At', ...args])
  return [
    "tab=$(printf '\\t'); dbs=$(mktemp) || exit 1",
    `${psql('-d', 'postgres', '-c', 'select datname from pg_database where datallowconn and not datistemplate order by 1')} > "$dbs" 2> "$dbs.err" || { ${onFail}; }`,
    // PGDATABASE is taken as a name, never as connection settings.
    `while IFS= read -r db; do PGDATABASE=$db ${psql('-c', PG_COUNT_ROWS_SQL)} -F "$tab" | while IFS= read -r line; do printf 'rows\\t%s.%s\\n' "$db" "$line"; done; done < "$dbs"`,
    'rm -f "$dbs" "$dbs.err"',
  ]
}

/** Rows of every table in every database of the scratch server: `rows<TAB>db.schema.table<TAB>n` (parseDrillOutput reads them). */
export function scratchRowCountsCommand(s: PgbackrestSettings, x: ScratchServer): RemoteCommand {
  return {script: [...rowCountLines(s, x, 'rm -f "$dbs" "$dbs.err"; exit 1'), `printf 'done\\n'`].join('\n')}
}

/** What a drill of a pgBackRest backup needs to know about it (from the repository's listing). */
export interface PgbackrestDrillSource {
  node: string
  config: string
  stanza: string
  osUser: string
  label: string
  pgVersion: string
  scratchDir: string
  scratchPort: number
  /** The repository holding the backup (1 local, 2 offsite). */
  repo?: number
}

/**
 * A restore drill of one pgBackRest backup (`ctl backup verify`): restored to its own consistent point
 * (pgBackRest checks every file's checksum as it restores; a damaged file fails the integrity stage)
 * into a scratch directory, started on a socket only (never archiving), every table counted, the
 * server stopped and the directory removed however the drill ends. Tagged lines, as the other drills.
 */
export function pgbackrestDrillCommand(b: PgbackrestDrillSource, stamp: string, target: RecoveryTarget = 'immediate'): RemoteCommand {
  const s: RepoAccess = {osUser: b.osUser, stanza: b.stanza, repoNode: b.node, configPath: () => b.config}
  const x: ScratchServer = {node: b.node, dir: `${b.scratchDir}/ctl-drill-${b.stanza}-${stamp}`, port: b.scratchPort, pgVersion: b.pgVersion}
  const dir = quote(x.dir)
  const pgCtl = `${binDir(x.pgVersion)}/pg_ctl`
  const fail = (stage: string) =>
    `printf '${stage}\\tfail\\t%s\\n' "$(tail -n 3 ${quote(`${x.dir}/restore.log`)} ${quote(`${x.dir}/server.log`)} 2> /dev/null | tr '\\n\\t' '  ')"; exit 0`
  const stageOf = {restore: 'integrity', start: 'start', recovery: 'start'} as const
  const restored = restoreAndStartLines(s, x, b.label, target, (stage) => fail(stageOf[stage]), 3600, b.repo)
  return {
    script: [
      `[ -x ${quote(pgCtl)} ] || { printf 'start\\tfail\\tno PostgreSQL %s server on this node\\n' ${quote(x.pgVersion)}; exit 0; }`,
      `[ ! -e ${dir} ] || { printf 'scratch\\tfail\\t%s exists already (another drill?)\\n' ${dir}; exit 0; }`,
      `install -d -m 700 -o ${quote(s.osUser)} -g ${quote(s.osUser)} ${dir} || { printf 'scratch\\tfail\\tcannot make %s\\n' ${dir}; exit 0; }`,
      `cleanup() { [ -f ${quote(`${x.dir}/data/postmaster.pid`)} ] && ${asUser(s, [pgCtl, '-D', `${x.dir}/data`, '-m', 'immediate', '-w', 'stop'])} > /dev/null 2>&1; rm -rf ${dir}; }`,
      'trap cleanup EXIT',
      // pgBackRest checked every file it restored: integrity holds once the restore (the first line) passed.
      ...restored.slice(0, 1),
      `printf 'integrity\\tok\\n'`,
      ...restored.slice(1),
      `printf 'start\\tok\\n'`,
      ...rowCountLines(s, x, `printf 'tables\\tfail\\t%s\\n' "$(tr '\\n' ' ' < "$dbs.err")"; exit 0`),
      `printf 'done\\n'`,
    ].join('\n'),
  }
}

/** How the operator stops and removes the scratch server when done with it. */
export function scratchCleanupCommand(s: PgbackrestSettings, x: ScratchServer): RemoteCommand {
  return {script: `${asUser(s, [`${binDir(x.pgVersion)}/pg_ctl`, '-D', `${x.dir}/data`, '-m', 'fast', '-w', 'stop'])}; rm -rf ${quote(x.dir)}`}
}

/**
 * Copies one database out of the scratch server into a NEW database on the cluster (the leader):
 * pg_dump on the scratch socket (peer, as the PostgreSQL user) piped into pg_restore against the
 * leader (the password on stdin). Both exit statuses count (no pipefail in every sh).
 */
export function copyFromScratchCommand(s: PgbackrestSettings, x: ScratchServer, source: string, target: Omit<PgTarget, 'node'>): RemoteCommand {
  const dumpRc = quote(`${x.dir}/copy-dump.rc`)
  const dump = asUser(s, [`${binDir(x.pgVersion)}/pg_dump`, '-Fc', '-h', x.dir, '-p', String(x.port), ...dbnameArgs(source)])
  const restore = shellCommand(['pg_restore', ...connectionArgs(target), ...dbnameArgs(target.database), '--no-owner', '--exit-on-error'])
  return afterPasswordFromStdin(`{ ${dump}; echo $? > ${dumpRc}; } | ${restore}; rc=$?; [ "$(cat ${dumpRc})" = 0 ] && [ "$rc" = 0 ]`)
}

/** Reads PG_COUNT_ROWS_SQL's output through psql -A -t (`schema.table|n` per line). */
export function parseRowCounts(stdout: string): Record<string, number> {
  const rows: Record<string, number> = {}
  for (const line of stdout.split('\n')) {
    const at = line.lastIndexOf('|')
    const n = line.slice(at + 1)
    if (at > 0 && /^\d+$/.test(n)) rows[line.slice(0, at)] = Number(n)
  }
  return rows
}
