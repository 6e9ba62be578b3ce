import {CtlError, ExitCode} from '../lib/errors.js'

/**
 * The one rule for a PostgreSQL database name that reaches psql, pg_dump or pg_restore. libpq reads a
 * `-d` value containing `=` or starting with `postgres://`/`postgresql://` as connection settings (host,
 * port, ...), so a name is never free text: it would send the password elsewhere or pick another
 * database than the one checked. Names made by ctl (`<db>_restored_<time>`) follow the same rule.
 */

/** PostgreSQL truncates identifiers beyond 63 bytes: a longer name would silently mean another one. */
const MAX_IDENTIFIER_BYTES = 63

/** ASCII only, so characters are bytes: a letter or `_`, then letters, digits, `_`, `$` or `-`. */
export const DATABASE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/

export const DATABASE_NAME_RULE = `a letter or "_" first, then letters, digits, "_", "$" or "-", at most ${MAX_IDENTIFIER_BYTES} bytes (no "=", spaces, quotes or postgres:// URIs: libpq would read those as connection settings)`

/** Why `name` is not a database name ctl accepts, or undefined when it is one. */
export function databaseNameProblem(name: string): string | undefined {
  if (DATABASE_NAME_PATTERN.test(name)) return undefined
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) return `longer than ${MAX_IDENTIFIER_BYTES} bytes`
  if (/^postgres(ql)?:\/\//i.test(name)) return 'a connection URI, not a name'
  if (name.includes('=')) return 'connection settings ("="), not a name'
  if (name === '') return 'empty'
  if (!/^[A-Za-z_]/.test(name)) return 'it must start with a letter or "_"'
  const bad = [...name].find((c) => !/[A-Za-z0-9_$-]/.test(c))!
  return `it contains ${JSON.stringify(bad)}`
}

/**
 * Returns `name` when it is a database name ctl accepts; otherwise refuses (exit 2) naming the value,
 * where it came from (`--db`, the backup record, ...) and the rule. Called before any connection.
 */
export function checkDatabaseName(name: string, source: string): string {
  const problem = databaseNameProblem(name)
  if (problem === undefined) return name
  throw new CtlError(`Database name ${JSON.stringify(name)} (${source}) is refused: ${problem}`, {
    exitCode: ExitCode.cannotRun,
    code: 'pg.database-name',
    hint: `A database name is ${DATABASE_NAME_RULE}.`,
  })
}

/** A libpq connection-string value: bare when plain, else single-quoted with `\` and `'` escaped. */
export function conninfoValue(value: string): string {
  return /^[^\s'\\]+$/.test(value) ? value : `'${value.replaceAll(/['\\]/g, (c) => `\\${c}`)}'`
}

/**
 * The `-d` argument of psql/pg_dump/pg_restore: the name (checked again) as a connection string holding
 * only `dbname`, so libpq never reads the name itself as settings. `-h/-p/-U` still apply: libpq takes
 * them from before `dbname` and the string sets nothing else.
 */
export function dbnameArgs(database: string): string[] {
  return ['-d', `dbname=${conninfoValue(checkDatabaseName(database, 'database'))}`]
}
