import {posix} from 'node:path'
import {shellCommand, type RemoteCommand} from '../lib/shell.js'
import {dbnameArgs} from './database-name.js'
import {afterPasswordFromStdin, connectionArgs, sqlIdent, sqlLiteral, type PgTarget} from './sql.js'

/**
 * pg_dump / pg_restore for the PostgreSQL runbooks: builders (argv or scripts of quoted parts; the
 * password always on stdin), the parsers of their output, and the check of a restored database
 * against the archive's table of contents (`pg_restore --list`).
 */

export interface DumpFiles {
  /** The finished archive. */
  file: string
  /** Written first, renamed when pg_dump succeeded: a half-written dump never looks complete. */
  partial: string
  /** JSON record next to it: source, timeline, LSN, size, sha256. */
  record: string
}

export function dumpFiles(backupDir: string, scope: string, database: string, stamp: string): DumpFiles {
  const file = posix.join(backupDir, `${scope}-${database}-${stamp}.dump`)
  return {file, partial: `${file}.partial`, record: `${file}.json`}
}

/** Where `--from` points: a path as given, or a file name inside the backup directory. */
export function backupFilePath(from: string, backupDir: string): string {
  return from.includes('/') ? from : posix.join(backupDir, from)
}

/**
 * pg_dump -Fc into the partial file, renamed on success; prints sha256 and size. Backups hold every
 * row: under umask 077 the file is 0600 and the directories ctl makes 0700; the backup directory is
 * made 0700 even when it existed before.
 */
export function dumpCommand(source: Omit<PgTarget, 'node'>, files: DumpFiles): RemoteCommand {
  const dump = ['pg_dump', '-Fc', ...connectionArgs(source), ...dbnameArgs(source.database), '-f', files.partial]
  const dir = posix.dirname(files.file)
  return afterPasswordFromStdin(
    [
      'umask 077',
      shellCommand(['mkdir', '-p', dir]),
      shellCommand(['chmod', '700', dir]),
      shellCommand(['test', '!', '-e', files.file]),
      shellCommand(dump),
      shellCommand(['mv', files.partial, files.file]),
      shellCommand(['sha256sum', files.file]),
      shellCommand(['stat', '-c', '%s', files.file]),
    ].join(' && '),
  )
}

export interface DumpChecksum {
  sha256: string
  sizeBytes: number
}

/** Reads `sha256sum` then `stat -c %s` output. */
export function parseDumpChecksum(stdout: string): DumpChecksum | undefined {
  const sha = /^([0-9a-f]{64})\s/m.exec(stdout)?.[1]
  const size = /^(\d+)\s*$/m.exec(stdout)?.[1]
  return sha && size ? {sha256: sha, sizeBytes: Number(size)} : undefined
}

export function checksumCommand(file: string): RemoteCommand {
  return {script: `${shellCommand(['sha256sum', file])} && ${shellCommand(['stat', '-c', '%s', file])}`}
}

/** Writes the backup record (JSON on stdin) next to the dump, readable by root only. */
export function writeRecordCommand(path: string): RemoteCommand {
  return {script: `umask 077 && cat > ${shellCommand([path])}`}
}

export function readRecordCommand(path: string): string[] {
  return ['cat', path]
}

export function listArchiveCommand(file: string): string[] {
  return ['pg_restore', '--list', file]
}

/** pg_restore into an existing database on the leader; stops at the first error. */
export function restoreCommand(target: Omit<PgTarget, 'node'>, file: string, jobs = 2): RemoteCommand {
  return afterPasswordFromStdin(
    shellCommand(['pg_restore', ...connectionArgs(target), ...dbnameArgs(target.database), '--exit-on-error', '-j', String(jobs), file]),
  )
}

/** What the backup record holds (written by pg-backup, read by pg-restore). */
export interface BackupRecord {
  file: string
  node: string
  scope: string
  database: string
  sourceMember: string
  sourceRole: 'leader' | 'replica'
  timeline?: number
  lsn: string
  sha256: string
  sizeBytes: number
  startedAt: string
  finishedAt: string
  pgDump: string
  /** Rows per table in the archive (its COPY blocks), counted when it was taken: what a restore drill must find. */
  rowCounts?: Record<string, number>
}

/** The object kinds compared between the archive's table of contents and the restored catalog. */
const COMPARED_KINDS = [
  'TABLE',
  'VIEW',
  'MATERIALIZED VIEW',
  'SEQUENCE',
  'INDEX',
  'CONSTRAINT',
  'FK CONSTRAINT',
  'FUNCTION',
  'PROCEDURE',
  'TABLE DATA',
] as const
type ComparedKind = (typeof COMPARED_KINDS)[number]

/** Entry types of `pg_restore --list` that contain spaces, longest first (matched before single words). */
const MULTI_WORD_TYPES = [
  'MATERIALIZED VIEW DATA',
  'DEFAULT ACL',
  'FK CONSTRAINT',
  'MATERIALIZED VIEW',
  'SEQUENCE OWNED BY',
  'SEQUENCE SET',
  'TABLE DATA',
  'TABLE ATTACH',
  'INDEX ATTACH',
  'LARGE OBJECT',
  'BLOB DATA',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'EVENT TRIGGER',
  'FOREIGN TABLE',
  'PUBLICATION TABLE',
  'ENCODING',
  'STDSTRINGS',
  'SEARCHPATH',
]

export interface ArchiveEntry {
  id: number
  type: string
  /** The rest of the line: schema, name, owner. */
  rest: string
}

/** Parses `pg_restore --list`: `3360; 0 16390 TABLE DATA public orders postgres` (comments start with `;`). */
export function parseArchiveList(text: string): ArchiveEntry[] {
  const entries: ArchiveEntry[] = []
  for (const line of text.split('\n')) {
    const m = /^(\d+);\s+\d+\s+\d+\s+(.*)$/.exec(line.trim())
    if (!m) continue
    const body = m[2]!
    const type = MULTI_WORD_TYPES.find((t) => body === t || body.startsWith(`${t} `)) ?? body.split(' ')[0]!
    entries.push({id: Number(m[1]), type, rest: body.slice(type.length).trim()})
  }
  return entries
}

export type KindCounts = Record<ComparedKind, number>

export function countArchive(entries: ArchiveEntry[]): KindCounts {
  const counts = Object.fromEntries(COMPARED_KINDS.map((k) => [k, 0])) as KindCounts
  for (const e of entries) if ((COMPARED_KINDS as readonly string[]).includes(e.type)) counts[e.type as ComparedKind]++
  return counts
}

/**
 * The same kinds counted in a database's catalog: user schemas only, objects of extensions left out
 * (pg_dump does not list them either). Indexes that back a constraint are counted as the constraint.
 */
export const CATALOG_COUNTS_SQL = `with ns as (
  select oid from pg_namespace where nspname not in ('pg_catalog', 'information_schema') and nspname not like 'pg\\_toast%' and nspname not like 'pg\\_temp%'
), rel as (
  select c.oid, c.relkind from pg_class c join ns on ns.oid = c.relnamespace
  where not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
), con as (
  select k.contype from pg_constraint k join rel on rel.oid = k.conrelid
)
select json_build_object(
  'TABLE', (select count(*) from rel where relkind in ('r', 'p')),
  'VIEW', (select count(*) from rel where relkind = 'v'),
  'MATERIALIZED VIEW', (select count(*) from rel where relkind = 'm'),
  'SEQUENCE', (select count(*) from rel where relkind = 'S'),
  'INDEX', (select count(*) from rel where relkind in ('i', 'I') and not exists (select 1 from pg_constraint k where k.conindid = rel.oid and k.contype in ('p', 'u', 'x'))),
  'CONSTRAINT', (select count(*) from con where contype in ('p', 'u', 'x')),
  'FK CONSTRAINT', (select count(*) from con where contype = 'f'),
  'FUNCTION', (select count(*) from pg_proc p join ns on ns.oid = p.pronamespace where p.prokind in ('f', 'a', 'w') and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')),
  'PROCEDURE', (select count(*) from pg_proc p join ns on ns.oid = p.pronamespace where p.prokind = 'p' and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')),
  'TABLE DATA', (select count(*) from rel where relkind = 'r'))`

export interface KindComparison {
  kind: ComparedKind
  archive: number
  database: number
  same: boolean
}

export function compareCounts(archive: KindCounts, database: Partial<KindCounts>): KindComparison[] {
  return COMPARED_KINDS.map((kind) => ({
    kind,
    archive: archive[kind],
    database: Number(database[kind] ?? 0),
    same: archive[kind] === Number(database[kind] ?? 0),
  }))
}

/** Row counts of every user table (exact count(*)), for the operator's report. */
export const TABLE_ROWS_SQL = `
select coalesce(json_object_agg(t.schemaname || '.' || t.relname, (xpath('/row/n/text()', query_to_xml(format('select count(*) as n from %I.%I', t.schemaname, t.relname), false, true, '')))[1]::text::bigint), '{}'::json)
from pg_stat_user_tables t`

export function databaseExistsSql(name: string): string {
  return `select json_build_object('exists', exists(select 1 from pg_database where datname = ${sqlLiteral(name)}))`
}

/** From template0, as pg_restore expects (template1 may hold local additions that would collide). */
export function createDatabaseSql(name: string): string {
  return `CREATE DATABASE ${sqlIdent(name)} TEMPLATE template0`
}

export function dropDatabaseSql(name: string): string {
  return `DROP DATABASE IF EXISTS ${sqlIdent(name)} WITH (FORCE)`
}

/**
 * Puts the restored copy in place of `target` in one transaction: new sessions are refused and open
 * ones ended first; the old database is kept under `aside` (connections allowed again) for the
 * operator to check and drop.
 */
export function swapDatabasesSql(target: string, restored: string, aside: string): string {
  return [
    `ALTER DATABASE ${sqlIdent(target)} WITH ALLOW_CONNECTIONS false;`,
    `SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE datname = ${sqlLiteral(target)} AND pid <> pg_backend_pid();`,
    'BEGIN;',
    `ALTER DATABASE ${sqlIdent(target)} RENAME TO ${sqlIdent(aside)};`,
    `ALTER DATABASE ${sqlIdent(restored)} RENAME TO ${sqlIdent(target)};`,
    'COMMIT;',
    `ALTER DATABASE ${sqlIdent(aside)} WITH ALLOW_CONNECTIONS true;`,
  ].join('\n')
}

export function allowConnectionsSql(name: string): string {
  return `ALTER DATABASE ${sqlIdent(name)} WITH ALLOW_CONNECTIONS true`
}

/** The database names a restore uses: a new one by default; for --replace, a work copy and the old one's new name. */
export function restoreNames(options: {requested?: string; backupDatabase: string; replace: boolean; stamp: string}): {
  target: string
  work: string
  aside?: string
} {
  const stamp = options.stamp.toLowerCase()
  if (!options.replace)
    return {
      target: options.requested ?? `${options.backupDatabase}_restored_${stamp}`,
      work: options.requested ?? `${options.backupDatabase}_restored_${stamp}`,
    }
  const target = options.requested ?? options.backupDatabase
  return {target, work: `${target}_ctl_restore_${stamp}`, aside: `${target}_replaced_${stamp}`}
}
