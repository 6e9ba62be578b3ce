import {posix} from 'node:path'
import {quote, type RemoteCommand} from '../lib/shell.js'
import {CtlError} from '../lib/errors.js'
import {pgbackrestCommand} from '../patroni/pgbackrest-config.js'
import {parsePgbackrestInfo} from '../patroni/pgbackrest-info.js'
import type {BackupLocation, PgbackrestRepoAccess} from './locations.js'
import type {ResticRepo} from './restic.js'
import {REDIS_RDB} from './redis-rdb.js'
import {RABBITMQ_SUFFIX} from './rabbitmq-definitions.js'

/**
 * The restore points in the backup directories the runbooks write: one listing command per node
 * (every location on it), its parser, and the merge of what several nodes saw. Pure: tests give it
 * output; src/backups/gather.ts runs it.
 */

export interface RestorePoint {
  database: BackupLocation['database']
  /** What retention counts together: `mariadb`, or `postgres/<database>` (each dumped database on its own). */
  series: string
  /** The backup directory (mariabackup) or dump file (pg_dump). */
  path: string
  /** The location's directory, which holds `path` directly. */
  dir: string
  /** Nodes that hold it (a directory shared between nodes shows on each). */
  nodes: string[]
  /** When the backup started (from its name or record; else the file's time). */
  takenAt: string
  sizeBytes: number
  /** mariabackup: sha256 of ctl's manifest of every file; pg_dump: the sha256 recorded when it was taken. */
  checksum?: string
  /** ctl finished it (manifest or record written): only complete backups count for retention or are ever removed. */
  complete: boolean
  /** mariabackup and pg_dump write in the clear; a pgBackRest repository may be encrypted (cipherPass). */
  encrypted: boolean
  /** Something about it that does not add up, e.g. a size other than the recorded one. */
  problem?: string
  /** pgBackRest: the backup's label, server version and repository (1 local, 2 offsite), and how to reach the repository (for drills). */
  pgbackrest?: PgbackrestRepoAccess & {label: string; pgVersion: string; repo: number; stoppedAt: string}
  /** Where it is kept: on the cluster's nodes, or off them (S3). */
  offsite: boolean
  /** restic: the snapshot holding the backup and the backup directory's path as it was on the node. */
  restic?: {snapshot: string; originalPath: string; repo: ResticRepo; drillDir: string; binlogFile?: string}
  /** RabbitMQ: where the backup node's RabbitMQ scripts are (its drills start a scratch broker from there). */
  serverBinDir?: string
  /** The last restore drill (`ctl backup verify`), from its record next to the backup. */
  lastDrill?: {verifiedAt: string; outcome: 'passed' | 'failed'; problems: string[]}
}

const MARIADB_MANIFEST = 'ctl-manifest.sha256'
/** Backups that are one file with a `<file>.json` record beside it: pg_dump archives, Redis RDB snapshots, RabbitMQ definitions. */
const RECORDED_FILE_SUFFIX = {postgres: '.dump', redis: REDIS_RDB.suffix, rabbitmq: RABBITMQ_SUFFIX} as const
/** The drill record next to the backup (src/backups/drill.ts), base64 in `$v`. */
const DRILL = `v=-; [ -f "$p.verify.json" ] && v=$(base64 -w0 < "$p.verify.json")`

/**
 * For each location on this node, one tab-separated line per entry: `point`, the database, mtime,
 * size, the checksum (mariadb) or base64 record (postgres) or `-`, the base64 drill record or `-`,
 * the path (last: it may hold spaces). `nodir` when the directory does not exist.
 */
export function listRestorePointsCommand(locations: readonly BackupLocation[]): RemoteCommand {
  // Offsite (restic) locations are listed on their own, with the keys on stdin (src/backups/restic-points.ts).
  const parts = locations
    .filter((l) => !l.restic)
    .map((l) => {
      if (l.pgbackrest) return pgbackrestListing(l.pgbackrest)
      const d = quote(l.dir)
      const entries =
        l.database === 'mariadb'
          ? `for p in ${d}/*; do [ -d "$p" ] || continue; c=-; [ -f "$p/${MARIADB_MANIFEST}" ] && c=$(sha256sum < "$p/${MARIADB_MANIFEST}" | cut -c1-64); ${DRILL}; printf 'point\\tmariadb\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$(stat -c %Y "$p")" "$(du -sb "$p" | cut -f1)" "$c" "$v" "$p"; done`
          : `for p in ${d}/*${RECORDED_FILE_SUFFIX[l.database as keyof typeof RECORDED_FILE_SUFFIX]}; do [ -f "$p" ] || continue; r=-; [ -f "$p.json" ] && r=$(base64 -w0 < "$p.json"); ${DRILL}; printf 'point\\t${l.database}\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$(stat -c %Y "$p")" "$(stat -c %s "$p")" "$r" "$v" "$p"; done`
      return `if [ -d ${d} ]; then ${entries}; else printf 'nodir\\t${l.database}\\t%s\\n' ${d}; fi`
    })
  return {script: parts.join('; ')}
}

/**
 * How long pgBackRest's `info` may take. It lists every repository, and with one of them unreachable
 * (the offsite S3 down, measured in the lab) it retries for longer than the whole facts command of its
 * node may take: that one listing would time out every fact of the backup host (ssh, disk, the other
 * backups). Bounded, it is this listing's error alone.
 */
const PGBACKREST_INFO_SECONDS = 10

/**
 * A pgBackRest repository is listed by pgBackRest itself: `pgbackrest<TAB>pgbackrest<TAB><base64 of
 * info's JSON>`, or `pgbackrest-error<TAB>pgbackrest<TAB><its last words>`.
 */
function pgbackrestListing(repo: PgbackrestRepoAccess): string {
  const info = pgbackrestCommand({osUser: repo.osUser, stanza: repo.stanza, configPath: () => repo.config}, '', '--output=json', 'info')
    .map(quote)
    .join(' ')
  const drills = drillRecordsLoop(pgbackrestDrillDir(repo.repoPath), 'pgdrill\\tpgbackrest')
  const late = `pgbackrest info gave no answer within ${PGBACKREST_INFO_SECONDS} s (is the storage of a repository down?)`
  return `if r=$(timeout -k 2 ${PGBACKREST_INFO_SECONDS} ${info} 2>&1); then printf 'pgbackrest\\tpgbackrest\\t%s\\n' "$(printf %s "$r" | base64 -w0)"; ${drills}; else [ $? -eq 124 ] && r=${quote(late)}; printf 'pgbackrest-error\\tpgbackrest\\t%s\\n' "$(printf %s "$r" | tail -n 2 | tr '\\t\\n' '  ')"; fi`
}

/** Prints `<tags><TAB><name><TAB><base64 record>` for each drill record (`<name>.verify.json`) in `dir`. */
export function drillRecordsLoop(dir: string, tags: string): string {
  return `for f in ${quote(dir)}/*.verify.json; do [ -f "$f" ] || continue; printf '${tags}\\t%s\\t%s\\n' "$(basename "$f" .verify.json)" "$(base64 -w0 < "$f")"; done`
}

/** Where `ctl backup verify` keeps its drill records of a pgBackRest repository (beside pgBackRest's own directories, never in them). */
export function pgbackrestDrillDir(repoPath: string): string {
  return `${repoPath}/ctl-drills`
}

/** A pgBackRest drill record's name: the label, prefixed with the repository when it is not the local one. */
export function pgbackrestDrillName(b: {label: string; repo: number}): string {
  return b.repo === 1 ? b.label : `repo${b.repo}-${b.label}`
}

/** The backups in a pgBackRest repository as restore points; a missing stanza is a missing directory. */
function pgbackrestPoints(node: string, base64: string, location: BackupLocation, listing: NodeListing): void {
  const stanza = location.pgbackrest!.stanza
  const info = parsePgbackrestInfo(decodeJson<unknown>(base64), stanza)
  if (!info || info.status.code === 1) {
    listing.missingDirs.push(location.dir)
    return
  }
  for (const b of info.backups) {
    const offsite = b.repo !== 1
    const repoDir = offsite ? `${location.pgbackrest!.offsite ?? `repo${b.repo}:`}/backup/${stanza}` : location.dir
    const cipher = info.repoCiphers[b.repo] ?? info.cipher
    listing.points.push({
      pgbackrest: {...location.pgbackrest!, label: b.label, pgVersion: info.pgVersion ?? '15', repo: b.repo, stoppedAt: b.stoppedAt},
      database: 'pgbackrest',
      series: offsite ? `pgbackrest/${stanza}@offsite` : `pgbackrest/${stanza}`,
      path: `${repoDir}/${b.label}`,
      dir: repoDir,
      nodes: [node],
      takenAt: b.startedAt,
      sizeBytes: b.repoSizeBytes,
      complete: !b.error,
      encrypted: cipher !== 'none',
      offsite,
      ...(b.error ? {problem: 'pgBackRest marks this backup as failed'} : {}),
    })
  }
}

/** `20261126T121500` (the runbooks' backupStamp, UTC) as ISO time. */
function stampTime(text: string): string | undefined {
  const m = /(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)/.exec(text)
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : undefined
}

interface DumpRecord {
  database?: string
  /** Redis and RabbitMQ records name their component. */
  component?: string
  sha256?: string
  sizeBytes?: number
  startedAt?: string
}

function decodeJson<T>(base64: string): Partial<T> | undefined {
  if (base64 === '-') return undefined
  try {
    const value = JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as unknown
    return value && typeof value === 'object' ? (value as Partial<T>) : undefined
  } catch {
    return undefined
  }
}

export function decodeDrill(base64: string): RestorePoint['lastDrill'] {
  const drill = decodeJson<NonNullable<RestorePoint['lastDrill']>>(base64)
  if (!drill || typeof drill.verifiedAt !== 'string' || (drill.outcome !== 'passed' && drill.outcome !== 'failed')) return undefined
  return {verifiedAt: drill.verifiedAt, outcome: drill.outcome, problems: Array.isArray(drill.problems) ? drill.problems.map(String) : []}
}

export interface NodeListing {
  points: RestorePoint[]
  /** Locations whose directory does not exist on the node. */
  missingDirs: string[]
}

/** Reads the output of listRestorePointsCommand from one node; lines it does not understand are skipped. */
export function parseRestorePoints(node: string, stdout: string, locations: readonly BackupLocation[]): NodeListing {
  const listing: NodeListing = {points: [], missingDirs: []}
  for (const line of stdout.split('\n')) {
    const [tag, database, ...rest] = line.split('\t')
    const location = locations.find((l) => l.database === database && !l.restic)
    if (!location) continue
    if (tag === 'nodir') {
      listing.missingDirs.push(location.dir)
      continue
    }
    if (tag === 'pgbackrest') {
      pgbackrestPoints(node, rest[0] ?? '-', location, listing)
      continue
    }
    if (tag === 'pgdrill') {
      const [name = '', record = '-'] = rest
      const point = listing.points.find((p) => p.pgbackrest && pgbackrestDrillName(p.pgbackrest) === name)
      const lastDrill = decodeDrill(record)
      if (point && lastDrill) point.lastDrill = lastDrill
      continue
    }
    if (tag === 'pgbackrest-error')
      throw new CtlError(`pgbackrest info failed: ${rest.join(' ').trim()}`, {
        host: node,
        code: 'backup.pgbackrest-info',
        hint: 'Run ctl runbook pgbackrest-setup <env> to check the repository.',
      })
    if (tag !== 'point' || rest.length < 5) continue
    const [mtime, size, extra, drill, ...pathParts] = rest
    const path = pathParts.join('\t')
    if (posix.dirname(path) !== location.dir || !/^\d+$/.test(mtime!) || !/^\d+$/.test(size!)) continue
    const fileTime = new Date(Number(mtime) * 1000).toISOString()
    const sizeBytes = Number(size)
    const lastDrill = decodeDrill(drill!)
    if (location.database === 'mariadb') {
      const checksum = /^[0-9a-f]{64}$/.test(extra!) ? extra : undefined
      listing.points.push({
        database: 'mariadb',
        series: 'mariadb',
        path,
        dir: location.dir,
        nodes: [node],
        takenAt: stampTime(posix.basename(path)) ?? fileTime,
        sizeBytes,
        checksum,
        complete: checksum !== undefined,
        encrypted: false,
        offsite: false,
        ...(lastDrill ? {lastDrill} : {}),
      })
      continue
    }
    const record = decodeJson<DumpRecord>(extra!)
    // A pg_dump series per database; Redis and RabbitMQ hold one series each.
    const postgres = location.database === 'postgres'
    const point: RestorePoint = {
      database: location.database,
      series: postgres ? `postgres/${record?.database ?? 'unknown'}` : location.database,
      path,
      dir: location.dir,
      nodes: [node],
      takenAt: record?.startedAt ?? stampTime(posix.basename(path)) ?? fileTime,
      sizeBytes,
      checksum: record?.sha256,
      complete: record?.sha256 !== undefined && (postgres ? record.database !== undefined : record.component === location.database),
      ...(location.serverBinDir ? {serverBinDir: location.serverBinDir} : {}),
      encrypted: false,
      offsite: false,
      ...(lastDrill ? {lastDrill} : {}),
    }
    if (record?.sizeBytes !== undefined && record.sizeBytes !== sizeBytes)
      point.problem = `${sizeBytes} bytes, the record says ${record.sizeBytes}: changed or truncated since it was taken`
    listing.points.push(point)
  }
  return listing
}

/** One point per path seen alike (size and checksum) on several nodes, newest first. */
export function mergeRestorePoints(listings: readonly RestorePoint[][]): RestorePoint[] {
  const byKey = new Map<string, RestorePoint>()
  for (const point of listings.flat()) {
    const key = [point.database, point.path, point.sizeBytes, point.checksum ?? ''].join('\t')
    const seen = byKey.get(key)
    if (seen) seen.nodes = [...new Set([...seen.nodes, ...point.nodes])].sort()
    else byKey.set(key, {...point, nodes: [...point.nodes]})
  }
  return [...byKey.values()].sort((a, b) => b.takenAt.localeCompare(a.takenAt) || a.path.localeCompare(b.path))
}
