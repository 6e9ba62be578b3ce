import {quote, type RemoteCommand} from '../lib/shell.js'
import {pgbackrestDrillDir, pgbackrestDrillName, type RestorePoint} from './restore-points.js'
import {resticDrillRecordPath} from './restic-points.js'

/**
 * Restore drills (`ctl backup verify`): one script per restore point that checks its integrity,
 * restores a copy into a scratch server of its own (a private directory under /var/tmp, a unix
 * socket only, no network, never the production server or data), starts it, counts the rows of
 * every table, and removes everything on exit. It prints tagged lines; `judgeDrill` decides. Pure.
 */

/** Where a drill leaves its record: next to the backup, so the listing sees it and prune removes it with it. */
export function drillRecordPath(point: Pick<RestorePoint, 'path' | 'pgbackrest' | 'restic'>): string {
  if (point.restic) return resticDrillRecordPath(point.restic)
  if (point.pgbackrest) return `${pgbackrestDrillDir(point.pgbackrest.repoPath)}/${pgbackrestDrillName(point.pgbackrest)}.verify.json`
  return `${point.path}.verify.json`
}

// Shared start: a private scratch directory owned by the scratch server's user (its socket lives
// there), removed with the server stopped however the script ends.
const scratch = (owner: string) =>
  `s=$(mktemp -d /var/tmp/ctl-drill-XXXXXX) || { printf 'scratch\\tfail\\tmktemp in /var/tmp failed\\n'; exit 0; }; chown ${owner} "$s"`
/**
 * Refuses before copying when /var/tmp has less free space than the copy needs (at least the
 * backup's size plus a margin; a restored dump is usually larger than its compressed archive).
 */
const spaceFor = (sizeCommand: string, factor: number) =>
  `need=$(( $(${sizeCommand}) * ${factor} + 67108864 )); free=$(df -P -B1 /var/tmp | awk 'NR == 2 { print $4 }'); if [ "$free" -lt "$need" ]; then printf 'scratch\\tfail\\t/var/tmp has %s bytes free, the drill needs about %s\\n' "$free" "$need"; exit 0; fi`
const oneLine = (file: string) => `"$(tail -n 3 ${file} 2>/dev/null | tr '\\n\\t' '  ')"`

/** The rows per table of a mariabackup backup, written into it (under its manifest) when it was taken. */
export const MARIADB_ROWS_FILE = 'ctl-rows.tsv'

/**
 * mariabackup: the files against ctl's manifest (and the rows recorded in it at backup time), then a
 * copy started by a bare mariadbd (no config file, no Galera, no network, no grant tables), every
 * base table counted. `integrity: false` is the count mariadb-backup takes before the manifest exists.
 */
export function mariadbDrillCommand(backupDir: string, options: {integrity?: boolean; dirWord?: string} = {}): RemoteCommand {
  // dirWord: the directory as a shell word built by the caller (e.g. under a directory only known at run time).
  const src = options.dirWord ?? quote(backupDir)
  const integrity =
    options.integrity === false
      ? []
      : [
          `if ! (cd ${src} && sha256sum --quiet --strict -c ctl-manifest.sha256) > "$s/sum" 2>&1; then printf 'integrity\\tfail\\t%s\\n' ${oneLine('"$s/sum"')}; exit 0; fi`,
          `printf 'integrity\\tok\\n'`,
          `[ -f ${src}/${MARIADB_ROWS_FILE} ] && sed 's/^/recorded\\t/' ${src}/${MARIADB_ROWS_FILE}`,
        ]
  return {
    script: [
      'pid=',
      spaceFor(`du -sb ${src} | cut -f1`, 1),
      scratch('mysql'),
      `cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 120 ]; do sleep 0.5; i=$((i+1)); done; kill -9 "$pid" 2>/dev/null; fi; rm -rf "$s"; }`,
      'trap cleanup EXIT',
      ...integrity,
      `if ! { mkdir "$s/data" && cp -a ${src}/. "$s/data/" && rm -f "$s/data/ctl-manifest.sha256" "$s/data/${MARIADB_ROWS_FILE}" && chown -R mysql:mysql "$s/data"; } 2> "$s/copy"; then printf 'start\\tfail\\tcopy: %s\\n' ${oneLine('"$s/copy"')}; exit 0; fi`,
      `mariadbd --no-defaults --user=mysql --datadir="$s/data" --socket="$s/sock" --pid-file="$s/pid" --skip-networking --skip-grant-tables --skip-slave-start --innodb-buffer-pool-size=64M --log-error="$s/err" > /dev/null 2>&1 &`,
      'pid=$!',
      `i=0; until mariadb-admin --no-defaults --socket="$s/sock" ping > /dev/null 2>&1; do i=$((i+1)); if [ $i -gt 240 ] || ! kill -0 "$pid" 2>/dev/null; then printf 'start\\tfail\\t%s\\n' ${oneLine('"$s/err"')}; exit 0; fi; sleep 0.5; done`,
      `printf 'start\\tok\\n'`,
      `q() { mariadb --no-defaults --socket="$s/sock" -N -B -e "$1"; }`,
      `if ! q "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')" > "$s/tables" 2> "$s/q"; then printf 'tables\\tfail\\t%s\\n' ${oneLine('"$s/q"')}; exit 0; fi`,
      `tab=$(printf '\\t')`,
      'while IFS="$tab" read -r db t; do',
      '  qd=$(printf %s "$db" | sed \'s/`/``/g\'); qt=$(printf %s "$t" | sed \'s/`/``/g\')',
      `  if n=$(q "SELECT COUNT(*) FROM \\\`$qd\\\`.\\\`$qt\\\`" 2> "$s/q"); then printf 'rows\\t%s.%s\\t%s\\n' "$db" "$t" "$n"; else printf 'unreadable\\t%s.%s\\t%s\\n' "$db" "$t" ${oneLine('"$s/q"')}; fi`,
      'done < "$s/tables"',
      `printf 'done\\n'`,
    ].join('\n'),
  }
}

/** Rows per table in the catalog of a restored PostgreSQL database, as `schema.table<TAB>count` (names as pg_dump writes them). */
export const PG_COUNT_ROWS_SQL =
  "select format('%I.%I', n.nspname, c.relname), (xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I.%I', n.nspname, c.relname), false, true, '')))[1]::text from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' order by 1"

/**
 * pg_dump archive: its sha256 against the record, then a scratch cluster (initdb of the newest
 * installed PostgreSQL, trust on a private socket only) and pg_restore into it, every table counted.
 * The archive is read by root on stdin: it stays 0600.
 */
export function postgresDrillCommand(dumpFile: string, expectedSha256: string): RemoteCommand {
  const file = quote(dumpFile)
  return {
    script: [
      'bin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)',
      `[ -n "$bin" ] || { printf 'start\\tfail\\tno PostgreSQL server binaries in /usr/lib/postgresql\\n'; exit 0; }`,
      spaceFor(`stat -c %s ${file}`, 3),
      scratch('postgres'),
      `cleanup() { [ -f "$s/data/postmaster.pid" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$s/data" -m immediate -w stop > /dev/null 2>&1; rm -rf "$s"; }`,
      'trap cleanup EXIT',
      `got=$(sha256sum < ${file} | cut -c1-64) || { printf 'integrity\\tfail\\tcannot read the archive\\n'; exit 0; }`,
      `[ "$got" = ${quote(expectedSha256)} ] || { printf 'integrity\\tfail\\tsha256 %s, the record says %s\\n' "$got" ${quote(expectedSha256)}; exit 0; }`,
      `printf 'integrity\\tok\\n'`,
      'pg() { runuser -u postgres -- "$@"; }',
      `if ! { pg "$bin/initdb" -D "$s/data" -A trust -U postgres --no-sync && pg "$bin/pg_ctl" -D "$s/data" -o "-c listen_addresses= -k $s -c fsync=off" -l "$s/server.log" -w -t 120 start; } > "$s/log" 2>&1; then printf 'start\\tfail\\t%s\\n' ${oneLine('"$s/log"')}; exit 0; fi`,
      `printf 'start\\tok\\n'`,
      `if ! { pg "$bin/createdb" -h "$s" -U postgres drill && pg "$bin/pg_restore" -h "$s" -U postgres -d drill --no-owner --no-privileges --exit-on-error < ${file}; } > "$s/restore" 2>&1; then printf 'restore\\tfail\\t%s\\n' ${oneLine('"$s/restore"')}; exit 0; fi`,
      `printf 'restore\\tok\\n'`,
      `if ! pg "$bin/psql" -X -h "$s" -U postgres -d drill -At -F "$(printf '\\t')" -c ${quote(PG_COUNT_ROWS_SQL)} > "$s/rows" 2> "$s/q"; then printf 'tables\\tfail\\t%s\\n' ${oneLine('"$s/q"')}; exit 0; fi`,
      `sed 's/^/rows\\t/' "$s/rows"`,
      `printf 'done\\n'`,
    ].join('\n'),
  }
}

const EXIT_MARK = 'ctl-pg-restore-exit'

/**
 * Rows per table inside a pg_dump archive, counted at backup time from the archive itself (its COPY
 * blocks: one line per row): what a drill's restored database must hold. Prints `rows<TAB>name<TAB>n`.
 */
export function archiveRowCountsCommand(dumpFile: string): RemoteCommand {
  // pg_restore's exit status rides on the last line (no pipefail in every sh); awk exits 1 unless it is 0.
  const awk = [
    '{ last = $0 }',
    '/^COPY .* FROM stdin;$/ { name = $0; sub(/^COPY /, "", name); sub(/ FROM stdin;$/, "", name); sub(/ \\(.*\\)$/, "", name); sub(/ +$/, "", name); n = 0; inside = 1; next }',
    'inside && $0 == "\\\\." { printf "rows\\t%s\\t%d\\n", name, n; inside = 0; next }',
    'inside { n++ }',
    `END { if (inside || last != "${EXIT_MARK} 0") exit 1 }`,
  ].join('\n')
  return {script: `{ pg_restore -f - --data-only < ${quote(dumpFile)}; echo "${EXIT_MARK} $?"; } | awk ${quote(awk)}`}
}

type DrillStage = 'scratch' | 'integrity' | 'start' | 'restore' | 'tables'

export interface DrillOutput {
  /** The first stage that failed, with its message. */
  failed?: {stage: DrillStage; message: string}
  integrity: boolean
  started: boolean
  rows: Record<string, number>
  /** Rows per table recorded at backup time, when the backup carries them (mariabackup's ctl-rows.tsv). */
  recorded?: Record<string, number>
  unreadable: {table: string; error: string}[]
  /** The script reached its end. */
  finished: boolean
}

/** The rows file written into a mariabackup backup: `schema.table<TAB>count` per line. */
export function rowsFileText(rows: Record<string, number>): string {
  return Object.entries(rows)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([table, n]) => `${table}\t${n}\n`)
    .join('')
}

/** Reads the tagged lines of a drill script; `rows` lines are also what archiveRowCountsCommand prints. */
export function parseDrillOutput(stdout: string): DrillOutput {
  const out: DrillOutput = {integrity: false, started: false, rows: {}, unreadable: [], finished: false}
  for (const line of stdout.split('\n')) {
    const [tag = '', a = '', ...rest] = line.split('\t')
    const b = rest.join('\t')
    if (tag === 'rows' && /^\d+$/.test(b)) out.rows[a] = Number(b)
    else if (tag === 'recorded' && /^\d+$/.test(b)) out.recorded = {...out.recorded, [a]: Number(b)}
    else if (tag === 'unreadable') out.unreadable.push({table: a, error: b.trim()})
    else if (tag === 'done') out.finished = true
    else if (['scratch', 'integrity', 'start', 'restore', 'tables'].includes(tag)) {
      if (a === 'ok') {
        if (tag === 'integrity') out.integrity = true
        if (tag === 'start') out.started = true
      } else if (a === 'fail' && !out.failed) out.failed = {stage: tag as DrillStage, message: b.trim()}
    }
  }
  return out
}

/** What `ctl backup verify` records next to the backup and shows. */
export interface DrillRecord {
  path: string
  node: string
  verifiedAt: string
  outcome: 'passed' | 'failed'
  /** Why it failed, one line per problem. */
  problems: string[]
  tables: number
  rows: number
  /** How the counts were checked: against the counts recorded at backup time, or readable only. */
  counts: 'matched' | 'mismatched' | 'not recorded'
  durationMs: number
}

const MAX_LISTED = 5

/** The drill's verdict: every stage passed, every table readable, and the counts as recorded when there is a record. */
export function judgeDrill(
  output: DrillOutput,
  recordedElsewhere: Record<string, number> | undefined,
  meta: {path: string; node: string; verifiedAt: string; durationMs: number},
): DrillRecord {
  const recorded = recordedElsewhere ?? output.recorded
  const problems: string[] = []
  if (output.failed) problems.push(`${output.failed.stage} failed: ${output.failed.message || 'no message'}`)
  else if (!output.finished) problems.push('the drill stopped before its end (no final line)')
  for (const u of output.unreadable.slice(0, MAX_LISTED)) problems.push(`table ${u.table} is not readable: ${u.error}`)
  if (output.unreadable.length > MAX_LISTED) problems.push(`and ${output.unreadable.length - MAX_LISTED} more unreadable tables`)
  let counts: DrillRecord['counts'] = 'not recorded'
  if (recorded && !output.failed && output.finished) {
    const mismatches: string[] = []
    for (const [table, want] of Object.entries(recorded)) {
      const got = output.rows[table]
      if (got === undefined) mismatches.push(`table ${table} (${want} rows at backup time) is missing`)
      else if (got !== want) mismatches.push(`table ${table} has ${got} rows, ${want} at backup time`)
    }
    for (const table of Object.keys(output.rows)) if (!(table in recorded)) mismatches.push(`table ${table} was not in the backup's record`)
    problems.push(...mismatches.slice(0, MAX_LISTED))
    if (mismatches.length > MAX_LISTED) problems.push(`and ${mismatches.length - MAX_LISTED} more count differences`)
    counts = mismatches.length > 0 ? 'mismatched' : 'matched'
  }
  const values = Object.values(output.rows)
  return {
    ...meta,
    outcome: problems.length === 0 ? 'passed' : 'failed',
    problems,
    tables: values.length,
    rows: values.reduce((a, b) => a + b, 0),
    counts,
  }
}
