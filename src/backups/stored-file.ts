import {quote} from '../lib/shell.js'

/**
 * Backups that are one file with a record beside it (Redis RDB snapshots, RabbitMQ definitions): the
 * shell that stores one on the backup node, counts what it holds in a scratch server, records the
 * counts and the sha256, and the drill that checks a stored one again. Pure: src/backups/redis-rdb.ts
 * and rabbitmq-definitions.ts give the parts that differ.
 *
 * A backup is written under a hidden name and renamed only when whole and counted: the file first, then
 * its record (`<file>.json`); the listing counts a file as complete only with its record, so a run that
 * dies half-way leaves nothing that passes for a backup.
 */

export interface StoredFileKind {
  component: 'redis' | 'rabbitmq'
  /** The file name's ending after the `<stamp>` (`.rdb`, `.definitions.json`). */
  suffix: string
  /**
   * A script run as `sh -c <script> count <file>`: starts a scratch server from `$1` and prints
   * `start<TAB>ok|fail`, `rows<TAB><what><TAB><n>` lines and `done`, or `<stage><TAB>fail<TAB>why`.
   */
  countScript: string
}

/** `<stage><TAB>fail<TAB><the last lines of a file, on one line>` and the script ends (the drill's and backup's way to fail). */
export const failWith = (stage: string, file: string) => `{ printf '${stage}\\tfail\\t%s\\n' "$(tail -n 3 ${file} 2>/dev/null | tr '\\n\\t' '  ')"; exit 0; }`

/**
 * Stores one backup into `dir`: `fill` writes the file to "$tmp" (and sets "$src", where it came from),
 * then the counts, the sha256 and the record. Prints `backup<TAB>ok<TAB><path>` and `record<TAB><json>`,
 * or `<stage><TAB>fail<TAB><why>` (exit 0: the caller reads the stage). One run at a time per directory.
 */
export function storeBackupScript(kind: StoredFileKind, dir: string, fill: string[]): string {
  return [
    'set -u',
    'umask 077',
    `dir=${quote(dir)}`,
    `mkdir -p "$dir" || { printf 'store\\tfail\\tcannot make %s\\n' "$dir"; exit 0; }`,
    `exec 9> "$dir/.ctl-backup.lock"`,
    `flock -n 9 || { printf 'store\\tfail\\tanother ${kind.component} backup into %s is running\\n' "$dir"; exit 0; }`,
    'stamp=$(date -u +%Y%m%dT%H%M%S)',
    `name="$stamp"${quote(kind.suffix)}`,
    'tmp="$dir/.ctl-partial-$name"',
    'started=$(date -u +%Y-%m-%dT%H:%M:%SZ)',
    'src=',
    `rm -f "$tmp" "$tmp.json" "$tmp.err"`,
    `trap 'rm -f "$tmp" "$tmp.json" "$tmp.err"' EXIT`,
    ...fill,
    `[ -s "$tmp" ] || { printf 'take\\tfail\\tnothing was written\\n'; exit 0; }`,
    `count=$(sh -c ${quote(kind.countScript)} count "$tmp" 2>&1)`,
    `if ! printf '%s\\n' "$count" | grep -qx done; then printf 'count\\tfail\\t%s\\n' "$(printf '%s\\n' "$count" | awk -F '\\t' '$2 == "fail" { print $1 ": " $3; exit }')"; exit 0; fi`,
    `rows=$(printf '%s\\n' "$count" | awk -F '\\t' '$1 == "rows" && $3 ~ /^[0-9]+$/ && $2 ~ /^[A-Za-z0-9_.-]+$/ { printf "%s\\"%s\\":%s", sep, $2, $3; sep = "," }')`,
    'sha=$(sha256sum < "$tmp" | cut -c1-64); size=$(stat -c %s "$tmp")',
    `printf '{"component":"${kind.component}","source":"%s","startedAt":"%s","sha256":"%s","sizeBytes":%s,"rowCounts":{%s}}\\n' "$src" "$started" "$sha" "$size" "$rows" > "$tmp.json"`,
    'mv "$tmp" "$dir/$name" && mv "$tmp.json" "$dir/$name.json" || { printf \'store\\tfail\\tcould not rename into %s\\n\' "$dir"; exit 0; }',
    `printf 'backup\\tok\\t%s\\n' "$dir/$name"`,
    `printf 'record\\t%s\\n' "$(cat "$dir/$name.json")"`,
  ].join('\n')
}

export interface StoredBackup {
  path: string
  record: {component: string; source: string; startedAt: string; sha256: string; sizeBytes: number; rowCounts: Record<string, number>}
}

/** What storeBackupScript printed: the stored backup, or the stage that failed and why. */
export function parseStoreOutput(stdout: string): StoredBackup | {failed: {stage: string; message: string}} {
  let path: string | undefined
  let record: StoredBackup['record'] | undefined
  for (const line of stdout.split('\n')) {
    const [tag = '', a = '', ...rest] = line.split('\t')
    if (tag === 'backup' && a === 'ok') path = rest.join('\t')
    else if (tag === 'record') {
      try {
        record = JSON.parse([a, ...rest].join('\t')) as StoredBackup['record']
      } catch {
        record = undefined
      }
    } else if (a === 'fail') return {failed: {stage: tag, message: rest.join('\t').trim()}}
  }
  if (path && record && typeof record.sha256 === 'string') return {path, record}
  return {failed: {stage: 'store', message: `no result in its output: ${stdout.trim().split('\n').slice(-2).join(' ') || '(none)'}`}}
}

/**
 * The drill of a stored backup: its sha256 against the record, the component's own integrity check,
 * then the same count as at backup time, in a scratch server (judged against the record's counts).
 */
export function storedFileDrillScript(kind: StoredFileKind, path: string, expectedSha256: string, integrity: string[] = []): string {
  const file = quote(path)
  return [
    `got=$(sha256sum < ${file} | cut -c1-64) || { printf 'integrity\\tfail\\tcannot read the backup\\n'; exit 0; }`,
    `[ "$got" = ${quote(expectedSha256)} ] || { printf 'integrity\\tfail\\tsha256 %s, the record says %s\\n' "$got" ${quote(expectedSha256)}; exit 0; }`,
    ...integrity,
    `printf 'integrity\\tok\\n'`,
    `sh -c ${quote(kind.countScript)} count ${file}`,
  ].join('\n')
}
