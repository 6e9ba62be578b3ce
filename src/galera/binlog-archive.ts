import type {GaleraCluster, GaleraMember} from '../inventory/schema/databases.js'
import {quote, shellCommand, type RemoteCommand} from '../lib/shell.js'
import {RESTIC_INIT_LINE, resticEnvLines, resticListOrEmpty, type ResticRepo} from '../backups/restic.js'
import {listPitrBackupsCommand} from './pitr.js'

/**
 * The binary-log archive: the backup node's closed binary logs copied into a directory beside its
 * backups (hidden, so backup listings and retention never take it for a backup), and from there, with
 * backups.offsite, into the restic repository that holds the mariabackup backups. A point-in-time
 * restore replays from the archive, so it still works once the server purged a file, and from the
 * offsite copy once the cluster and the backup node are gone. Files are only added (a copy under a
 * temporary name, then a rename), never changed. Pure.
 */

/** The tag of the archive's restic snapshots (backup listings show only ctl-mariadb ones). */
const BINLOG_ARCHIVE_TAG = 'ctl-binlogs'

/** One directory per server: two servers' binary logs have the same names and different contents. */
export function binlogArchiveDir(cluster: Pick<GaleraCluster, 'backupDir'>, node: string): string {
  return `${cluster.backupDir}/.ctl-binlogs/${node}`
}

export const BINLOG_ARCHIVE_EXIT = {sql: 3, off: 4, copy: 5, busy: 6} as const

export interface ArchivedBinlog {
  name: string
  sizeBytes: number
}

export interface BinlogArchiveRun {
  /** Files copied by this run. */
  added: string[]
  /** Everything the archive holds after it, in order. */
  files: ArchivedBinlog[]
}

/**
 * The archiving script's lines: FLUSH BINARY LOGS (every transaction so far is in a closed file),
 * then each closed file of the index not yet in the archive (or there with another size: a copy cut
 * short) is copied in. Prints `archived<TAB>name` per copy and `file<TAB>name<TAB>bytes` per archived
 * file. The SQL password, when there is one, is the first line of stdin.
 */
export function binlogArchiveLines(member: Pick<GaleraMember, 'socket'>, user: string, archiveDir: string, withPassword: boolean): string[] {
  const client = shellCommand(['mariadb', `--socket=${member.socket}`, `--user=${user}`, '--batch', '--skip-column-names', '--connect-timeout=5'])
  const a = quote(archiveDir)
  return [
    'umask 077',
    ...(withPassword ? ['IFS= read -r MYSQL_PWD && export MYSQL_PWD'] : []),
    // One archiving run at a time on the node (the runbook, a restore's archive step, the scheduled job).
    `mkdir -p ${a} && exec 9> ${quote(`${archiveDir}.lock`)} || exit ${BINLOG_ARCHIVE_EXIT.copy}`,
    `flock -w 600 9 || { echo ${quote(`another archiving run holds ${archiveDir}.lock`)} >&2; exit ${BINLOG_ARCHIVE_EXIT.busy}; }`,
    `info=$(${client} -e 'FLUSH BINARY LOGS; SELECT @@log_bin, @@log_bin_basename, @@log_bin_index, @@datadir') || exit ${BINLOG_ARCHIVE_EXIT.sql}`,
    `on=$(printf %s "$info" | cut -f1); base=$(printf %s "$info" | cut -f2); index=$(printf %s "$info" | cut -f3); datadir=$(printf %s "$info" | cut -f4)`,
    `[ "$on" = 1 ] || { echo "binary logging is off (log_bin)" >&2; exit ${BINLOG_ARCHIVE_EXIT.off}; }`,
    'case $base in /*) ;; *) base="${datadir%/}/$base" ;; esac',
    'case $index in /*) ;; *) index="${datadir%/}/$index" ;; esac',
    'dir=${base%/*}',
    // Every file of the index but the last, which the flush has just opened.
    `sed '$d' "$index" | while IFS= read -r f; do`,
    '  b=${f##*/}',
    `  if [ -f ${a}/"$b" ] && [ "$(stat -c %s ${a}/"$b")" = "$(stat -c %s "$dir/$b")" ]; then continue; fi`,
    `  cp -p "$dir/$b" ${a}/".$b.part" && mv ${a}/".$b.part" ${a}/"$b" || exit ${BINLOG_ARCHIVE_EXIT.copy}`,
    `  printf 'archived\\t%s\\n' "$b"`,
    `done || exit ${BINLOG_ARCHIVE_EXIT.copy}`,
    listArchiveLine(archiveDir),
  ]
}

/** `file<TAB>name<TAB>bytes` for each archived file (a file of the archive, never a temporary one). */
function listArchiveLine(archiveDir: string): string {
  return `for p in ${quote(archiveDir)}/*; do [ -f "$p" ] && printf 'file\\t%s\\t%s\\n' "\${p##*/}" "$(stat -c %s "$p")"; done; true`
}

/** The archive's files and the node's backups with their binlog positions (parsePitrBackups reads those lines). */
export function archiveListingCommand(archiveDir: string, backupDir: string): RemoteCommand {
  return {script: `${(listPitrBackupsCommand(backupDir) as {script: string}).script}\n${listArchiveLine(archiveDir)}`}
}

/**
 * What retention may remove from the archive: the files before the oldest binlog file a kept backup
 * starts from (local backups and offsite copies alike; same basename only). Nothing when no kept
 * backup has a binlog position: then no file is known to be unneeded. Pure.
 */
export function archiveFilesToPrune(archived: readonly string[], neededFrom: readonly string[]): {remove: string[]; keepFrom?: string} {
  const seq = (name: string) => Number(name.slice(name.lastIndexOf('.') + 1))
  const base = (name: string) => name.slice(0, name.lastIndexOf('.'))
  const oldest = sortBinlogs(neededFrom.map((name) => ({name})))[0]?.name
  if (!oldest) return {remove: []}
  return {remove: archived.filter((f) => base(f) === base(oldest) && seq(f) < seq(oldest)), keepFrom: oldest}
}

/** Removes archived files (names checked), under the archive's lock: never while an archiving run copies. */
export function removeArchivedBinlogsCommand(archiveDir: string, names: readonly string[]): RemoteCommand {
  for (const name of names) if (!BINLOG_NAME.test(name)) throw new Error(`${name} is not a binary log's name: not removed`)
  return {
    script: [
      `exec 9> ${quote(`${archiveDir}.lock`)} && flock -w 600 9 || exit ${BINLOG_ARCHIVE_EXIT.busy}`,
      `cd ${quote(archiveDir)} && rm -f -- ${names.map(quote).join(' ')}`,
    ].join('\n'),
  }
}

export function binlogArchiveCommand(member: Pick<GaleraMember, 'socket'>, user: string, archiveDir: string, withPassword: boolean): RemoteCommand {
  return {script: binlogArchiveLines(member, user, archiveDir, withPassword).join('\n')}
}

/** A binary log's name as the index gives it: `<basename>.<number>`. */
const BINLOG_NAME = /^[A-Za-z0-9_.-]+\.\d+$/

export function parseBinlogArchiveRun(stdout: string): BinlogArchiveRun {
  const added: string[] = []
  const files: ArchivedBinlog[] = []
  for (const line of stdout.split('\n')) {
    const [tag, name = '', size = ''] = line.split('\t')
    if (!BINLOG_NAME.test(name)) continue
    if (tag === 'archived') added.push(name)
    else if (tag === 'file' && /^\d+$/.test(size)) files.push({name, sizeBytes: Number(size)})
  }
  return {added, files: sortBinlogs(files)}
}

/** In the server's order: by the number after the last dot (names share the basename). */
export function sortBinlogs<T extends {name: string}>(files: readonly T[]): T[] {
  const seq = (name: string) => Number(name.slice(name.lastIndexOf('.') + 1))
  return [...files].sort((x, y) => seq(x.name) - seq(y.name) || x.name.localeCompare(y.name))
}

/**
 * Ships the archive to the restic repository (made on first use), tagged, and forgets all but the
 * newest few archive snapshots: the archive only grows, so the newest snapshot holds every file
 * (forget without prune: the data stays until `backup prune` prunes). Prints restic's JSON summary.
 */
export function binlogShipLines(repo: ResticRepo, archiveDir: string, cluster: string): string[] {
  const tags = `--tag ${BINLOG_ARCHIVE_TAG} --tag ${quote(`cluster=${cluster}`)}`
  return [
    ...resticEnvLines(repo),
    RESTIC_INIT_LINE,
    `rst backup --json --quiet ${tags} ${quote(archiveDir)}`,
    // forget takes restic's exclusive lock: while another job holds the repository it waits for the next run.
    `rst forget --quiet --tag ${BINLOG_ARCHIVE_TAG} --path ${quote(archiveDir)} --keep-last 3 > /dev/null 2>&1 || echo 'restic forget skipped: the repository is busy' >&2`,
  ]
}

export function binlogShipCommand(repo: ResticRepo, archiveDir: string, cluster: string): RemoteCommand {
  return {script: binlogShipLines(repo, archiveDir, cluster).join('\n')}
}

/** The archive's snapshots of `archiveDir`, restic's JSON (no repository yet prints `[]`). */
export function offsiteBinlogSnapshotsCommand(repo: ResticRepo, archiveDir: string): RemoteCommand {
  return {
    script: [...resticEnvLines(repo), resticListOrEmpty(`rst snapshots --no-lock --json --tag ${BINLOG_ARCHIVE_TAG} --path ${quote(archiveDir)}`)].join('\n'),
  }
}

/** The newest snapshot's id and time, from `restic snapshots --json`. */
export function newestBinlogSnapshot(json: unknown): {snapshot: string; time: string} | undefined {
  if (!Array.isArray(json)) return undefined
  const snaps = (json as Record<string, unknown>[])
    .filter((s) => /^[0-9a-f]{64}$/.test(String(s.id)) && Array.isArray(s.tags) && s.tags.includes(BINLOG_ARCHIVE_TAG))
    .map((s) => ({snapshot: String(s.id), time: new Date(String(s.time)).toISOString()}))
    .sort((x, y) => x.time.localeCompare(y.time))
  return snaps.at(-1)
}

/** The files of one archive snapshot (restic ls --json, one JSON object per line). */
export function offsiteBinlogFilesCommand(repo: ResticRepo, snapshot: string, archiveDir: string): RemoteCommand {
  return {script: [...resticEnvLines(repo), `rst ls --no-lock --json ${quote(snapshot)} ${quote(archiveDir)}`].join('\n')}
}

/** The archived binary logs directly in `archiveDir`, in order. */
export function parseOffsiteBinlogFiles(stdout: string, archiveDir: string): ArchivedBinlog[] {
  const files: ArchivedBinlog[] = []
  for (const line of stdout.split('\n')) {
    let node: {struct_type?: unknown; type?: unknown; name?: unknown; path?: unknown; size?: unknown}
    try {
      node = JSON.parse(line) as typeof node
    } catch {
      continue
    }
    const name = String(node.name)
    if (node.struct_type === 'node' && node.type === 'file' && node.path === `${archiveDir}/${name}` && BINLOG_NAME.test(name) && typeof node.size === 'number')
      files.push({name, sizeBytes: node.size})
  }
  return sortBinlogs(files)
}
