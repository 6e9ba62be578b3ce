import {MARIADB_ROWS_FILE} from '../backups/drill.js'
import {quote, type RemoteCommand} from '../lib/shell.js'

/**
 * MariaDB point-in-time restore: the newest mariabackup backup whose consistent point is before the
 * target, started as a scratch server (no network, no Galera, no grant tables, no binary log of its
 * own) on a copy, then the member's binary logs replayed into it from the backup's binlog position up
 * to the target. Binary-log events carry whole seconds: the replay stops before the target's second
 * (a transaction in that second, even before the target, is not replayed; nothing after it ever is).
 * Production is never touched. Pure.
 */

export interface BinlogPosition {
  file: string
  position: number
  gtid?: string
}

/** `xtrabackup_binlog_info`: `mariadb-bin.000003<TAB>385<TAB>0-1-12` (the GTID is optional). */
export function parseBinlogInfo(text: string): BinlogPosition | undefined {
  const [file = '', position = '', gtid] = text.trim().split(/\s+/)
  if (!/^[A-Za-z0-9_.-]+\.\d+$/.test(file) || !/^\d+$/.test(position)) return undefined
  return {file, position: Number(position), ...(gtid ? {gtid} : {})}
}

/** A backup as the listing sees it: its directory, its binlog position and when that position was taken. */
export interface MariadbPitrBackup {
  dir: string
  binlog: BinlogPosition
  /** When mariabackup took the binlog position (its consistent point), from the file's time: whole seconds. */
  pointAt: string
  /** Offsite: the restic snapshot that holds it (`dir` is its path as it was on the node). */
  snapshot?: string
}

/**
 * One line per complete backup (ctl's manifest present) holding a binlog position:
 * `backup<TAB><epoch of xtrabackup_binlog_info><TAB><its content, tabs as spaces><TAB><dir>`.
 */
export function listPitrBackupsCommand(backupDir: string): RemoteCommand {
  return {
    script: `for p in ${quote(backupDir)}/*; do [ -f "$p/ctl-manifest.sha256" ] && [ -f "$p/xtrabackup_binlog_info" ] || continue; printf 'backup\\t%s\\t%s\\t%s\\n' "$(stat -c %Y "$p/xtrabackup_binlog_info")" "$(tr '\\t\\n' '  ' < "$p/xtrabackup_binlog_info")" "$p"; done`,
  }
}

export function parsePitrBackups(stdout: string): MariadbPitrBackup[] {
  const out: MariadbPitrBackup[] = []
  for (const line of stdout.split('\n')) {
    const [tag, epoch = '', info = '', ...dir] = line.split('\t')
    const binlog = parseBinlogInfo(info)
    if (tag !== 'backup' || !/^\d+$/.test(epoch) || !binlog) continue
    out.push({dir: dir.join('\t'), binlog, pointAt: new Date(Number(epoch) * 1000).toISOString()})
  }
  return out.sort((a, b) => a.pointAt.localeCompare(b.pointAt))
}

/** stopDatetime undefined: replay every archived binary log (`--at latest`). */
export type MariadbPitrChoice = {ok: true; backup: MariadbPitrBackup; stopDatetime?: string} | {ok: false; code: string; reason: string; hint: string}

/** `mariadb-binlog --stop-datetime` (UTC, whole seconds): events at or after the target's second are not replayed. */
export function binlogStopDatetime(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ')
}

/**
 * The backup a restore to `at` starts from: the newest whose consistent point is surely before `at`
 * (the point's file time is whole seconds, so at least a second before), then the binlogs up to `at`.
 */
export function chooseMariadbPitrBackup(backups: readonly MariadbPitrBackup[], at: Date | 'latest', now: Date): MariadbPitrChoice {
  if (at !== 'latest' && at.getTime() > now.getTime())
    return {
      ok: false,
      code: 'mariadb.future-target',
      reason: `${at.toISOString()} is in the future (now ${now.toISOString()})`,
      hint: 'Give a time in the past.',
    }
  if (backups.length === 0)
    return {
      ok: false,
      code: 'mariadb.no-pitr-backup',
      reason: 'no complete backup with a binary-log position (binary logging must be on when the backup is taken)',
      hint: 'Turn on log_bin (and log_slave_updates) on the members, then take one: ctl runbook mariadb-backup <env>.',
    }
  if (at === 'latest') return {ok: true, backup: backups.at(-1)!}
  const usable = backups.filter((b) => Date.parse(b.pointAt) + 1000 <= at.getTime())
  const chosen = usable.at(-1)
  if (!chosen)
    return {
      ok: false,
      code: 'mariadb.target-too-old',
      reason: `${at.toISOString()} is before the oldest backup's consistent point (${backups[0]!.pointAt})`,
      hint: `The earliest time these backups can restore to is ${new Date(Date.parse(backups[0]!.pointAt) + 1000).toISOString()}.`,
    }
  return {ok: true, backup: chosen, stopDatetime: binlogStopDatetime(at)}
}

/** The binlog files to replay: from the backup's file onwards, in the index's order (names only, as SHOW BINARY LOGS gives them). */
export function binlogFilesFrom(all: readonly string[], first: string): string[] | undefined {
  const at = all.indexOf(first)
  return at < 0 ? undefined : all.slice(at)
}

/** Exit codes of the restore script. */
export const MARIADB_PITR_EXIT = {exists: 4, copy: 5, start: 6, replay: 7, fetch: 8, integrity: 9} as const

export interface MariadbScratch {
  node: string
  dir: string
}

/**
 * Copies the backup into the scratch directory, starts a bare mariadbd on it (socket only), replays
 * the binlogs from the backup's position up to stopDatetime (mariadb-binlog in UTC), and leaves the
 * server running. The replay's exit status is checked (no pipefail in every sh).
 */
export function mariadbPitrRestoreCommand(
  x: MariadbScratch,
  backup: MariadbPitrBackup,
  binlogDir: string,
  files: readonly string[],
  stopDatetime: string | undefined,
): RemoteCommand {
  return {script: mariadbPitrRestoreLines(x, backup, binlogDir, files, stopDatetime).join('\n')}
}

function mariadbPitrRestoreLines(
  x: MariadbScratch,
  backup: Pick<MariadbPitrBackup, 'dir' | 'binlog'>,
  binlogDir: string,
  files: readonly string[],
  stopDatetime: string | undefined,
): string[] {
  const d = quote(x.dir)
  const data = quote(`${x.dir}/data`)
  const sock = quote(`${x.dir}/sock`)
  const err = quote(`${x.dir}/err`)
  const paths = files.map((f) => quote(`${binlogDir}/${f}`)).join(' ')
  const stop = stopDatetime ? ` ${quote(`--stop-datetime=${stopDatetime}`)}` : ''
  const until = stopDatetime ? `until ${stopDatetime} UTC` : 'to their end'
  return [
    `[ ! -e ${d} ] || { echo ${quote(`${x.dir} exists already`)} >&2; exit ${MARIADB_PITR_EXIT.exists}; }`,
    `mkdir -m 700 ${d} && chown mysql: ${d}`,
    `{ mkdir ${data} && cp -a ${quote(backup.dir)}/. ${data}/ && rm -f ${data}/ctl-manifest.sha256 ${quote(`${x.dir}/data/${MARIADB_ROWS_FILE}`)} && chown -R mysql:mysql ${data}; } || exit ${MARIADB_PITR_EXIT.copy}`,
    `mariadbd --no-defaults --user=mysql --datadir=${data} --socket=${sock} --pid-file=${quote(`${x.dir}/pid`)} --skip-networking --skip-grant-tables --skip-slave-start --innodb-buffer-pool-size=64M --log-error=${err} > /dev/null 2>&1 &`,
    `i=0; until mariadb-admin --no-defaults --socket=${sock} ping > /dev/null 2>&1; do i=$((i+1)); if [ $i -gt 240 ]; then tail -n 5 ${err} >&2; exit ${MARIADB_PITR_EXIT.start}; fi; sleep 0.5; done`,
    `{ TZ=UTC mariadb-binlog --no-defaults --start-position=${backup.binlog.position}${stop} ${paths} 2> ${quote(`${x.dir}/binlog.err`)}; echo "ctl-binlog-exit $?"; } > ${quote(`${x.dir}/replay.sql`)}`,
    `grep -q '^ctl-binlog-exit 0$' ${quote(`${x.dir}/replay.sql`)} || { cat ${quote(`${x.dir}/binlog.err`)} >&2; exit ${MARIADB_PITR_EXIT.replay}; }`,
    `grep -v '^ctl-binlog-exit ' ${quote(`${x.dir}/replay.sql`)} | mariadb --no-defaults --socket=${sock} > ${quote(`${x.dir}/replay.out`)} 2>&1 || { tail -n 3 ${quote(`${x.dir}/replay.out`)} >&2; exit ${MARIADB_PITR_EXIT.replay}; }`,
    `rm -f ${quote(`${x.dir}/replay.sql`)}`,
    `echo ${quote(`replayed ${files.join(' ')} from position ${backup.binlog.position} ${until}`)}`,
  ]
}

/** Where an offsite restore fetches the backup and the binary-log archive to: beside the scratch directory, removed after. */
const offsiteFetchDir = (x: MariadbScratch) => `${x.dir}.fetch`

/**
 * The offsite variant: restic restores the backup's snapshot (ctl's manifest checked) and the
 * binary-log archive's snapshot beside the scratch directory, then the same restore runs from there,
 * and the fetched copies are removed however it ends. The keys come on stdin (resticEnvLines).
 */
export function mariadbOffsitePitrRestoreCommand(
  x: MariadbScratch,
  backup: MariadbPitrBackup & {snapshot: string},
  binlogs: {snapshot: string; archiveDir: string},
  files: readonly string[],
  stopDatetime: string | undefined,
  envLines: readonly string[],
): RemoteCommand {
  const f = offsiteFetchDir(x)
  const fetched = {dir: `${f}${backup.dir}`, binlog: backup.binlog}
  const restore = mariadbPitrRestoreLines(x, fetched, `${f}${binlogs.archiveDir}`, files, stopDatetime)
  return {
    script: [
      ...envLines,
      `[ ! -e ${quote(x.dir)} ] && [ ! -e ${quote(f)} ] || { echo ${quote(`${x.dir} exists already`)} >&2; exit ${MARIADB_PITR_EXIT.exists}; }`,
      `fetchdir=${quote(f)}`,
      `mkdir -m 700 "$fetchdir" || exit ${MARIADB_PITR_EXIT.fetch}`,
      `trap 'rm -rf "$fetchdir"' EXIT`,
      `rst restore --no-lock --quiet --target ${quote(f)} ${quote(backup.snapshot)} >&2 || exit ${MARIADB_PITR_EXIT.fetch}`,
      `(cd ${quote(fetched.dir)} && sha256sum --quiet --strict -c ctl-manifest.sha256) >&2 || exit ${MARIADB_PITR_EXIT.integrity}`,
      `rst restore --no-lock --quiet --target ${quote(f)} ${quote(binlogs.snapshot)} >&2 || exit ${MARIADB_PITR_EXIT.fetch}`,
      `(
${restore.join('\n')}
)`,
    ].join('\n'),
  }
}

/** Rows of every base table of the scratch server: `rows<TAB>db.table<TAB>n` (parseDrillOutput reads them). */
export function mariadbScratchRowCountsCommand(x: MariadbScratch): RemoteCommand {
  const sock = quote(`${x.dir}/sock`)
  return {
    script: [
      `q() { mariadb --no-defaults --socket=${sock} -N -B -e "$1"; }`,
      `tables=$(q "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')") || exit 1`,
      `tab=$(printf '\\t')`,
      'printf "%s\\n" "$tables" | while IFS="$tab" read -r db t; do',
      '  [ -n "$db" ] || continue',
      '  qd=$(printf %s "$db" | sed \'s/`/``/g\'); qt=$(printf %s "$t" | sed \'s/`/``/g\')',
      `  n=$(q "SELECT COUNT(*) FROM \\\`$qd\\\`.\\\`$qt\\\`") && printf 'rows\\t%s.%s\\t%s\\n' "$db" "$t" "$n"`,
      'done',
      `printf 'done\\n'`,
    ].join('\n'),
  }
}

/** Stops the scratch server and removes its directory (what the operator runs when done with it). */
export function mariadbScratchCleanupCommand(x: MariadbScratch): RemoteCommand {
  return {
    script: `mariadb-admin --no-defaults --socket=${quote(`${x.dir}/sock`)} shutdown 2> /dev/null; i=0; while [ -e ${quote(`${x.dir}/pid`)} ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done; rm -rf ${quote(x.dir)}`,
  }
}
