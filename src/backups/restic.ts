import {posix} from 'node:path'
import type {LoadedInventory} from '../inventory/load.js'
import type {Inventory} from '../inventory/schema/index.js'
import {resolveSecret} from '../inventory/secrets.js'
import {quote, type RemoteCommand} from '../lib/shell.js'

/**
 * restic ships mariabackup backups to the offsite S3 storage, encrypted on the backup node before
 * they leave it (restic's repository key is backups.offsite.encryptionKey). The S3 key pair and the
 * repository password reach the node on stdin, three lines read into the environment restic reads
 * (never argv, never a file). Commands and their parsers here; pure.
 */

export interface ResticRepo {
  /** `s3:https://<endpoint>:<port>/<bucket><path>/mariadb`, restic's name for it. */
  url: string
  /** The same, for people: `s3://bucket/path`. */
  where: string
  caFile?: string
}

/** The tag every ctl mariabackup snapshot carries (restic lists only those). */
const MARIADB_TAG = 'ctl-mariadb'

export function mariadbResticRepo(inventory: Pick<Inventory, 'backups'>): ResticRepo | undefined {
  const offsite = inventory.backups.offsite
  if (!offsite) return undefined
  const {endpoint, port, bucket, caFile} = offsite.s3
  const path = `${offsite.resticPath.replace(/\/+$/, '')}/mariadb`
  return {url: `s3:https://${endpoint}:${port}/${bucket}${path}`, where: `s3://${bucket}${path}`, ...(caFile ? {caFile} : {})}
}

/** What the node reads first on stdin: the S3 key pair and the repository password, one per line. */
export function resticSecretsStdin(loaded: Pick<LoadedInventory, 'file' | 'inventory'>): string {
  const offsite = loaded.inventory.backups.offsite!
  return [
    resolveSecret(loaded, offsite.s3.accessKeyId),
    resolveSecret(loaded, offsite.s3.secretAccessKey),
    resolveSecret(loaded, offsite.encryptionKey),
    '',
  ].join('\n')
}

/** Script lines that read the secrets from stdin into restic's environment (and nothing else). */
export function resticEnvLines(repo: ResticRepo): string[] {
  return [
    'IFS= read -r AWS_ACCESS_KEY_ID && IFS= read -r AWS_SECRET_ACCESS_KEY && IFS= read -r RESTIC_PASSWORD || { echo "restic: the S3 keys and the repository key were not given on stdin" >&2; exit 2; }',
    `export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY RESTIC_PASSWORD RESTIC_REPOSITORY=${quote(repo.url)}`,
    `rst() { restic ${repo.caFile ? `--cacert ${quote(repo.caFile)} ` : ''}"$@"; }`,
  ]
}

/**
 * Makes the repository on first use. Two jobs that fire in the same minute on a fresh repository (the
 * backup and the binary-log archive) would both see no config and both `init`: two master keys, and
 * the snapshots of one unreadable with the other ("ciphertext verification failed"). So the check and
 * the init run under one lock on the node.
 */
export const RESTIC_INIT_LINE =
  'rst cat config > /dev/null 2>&1 || { exec 8> "${TMPDIR:-/tmp}/.ctl-restic-init.lock" && flock -w 300 8 && { rst cat config > /dev/null 2>&1 || rst init > /dev/null; }; } || exit 3'

/** restic's answer to a repository password that is not the repository's key. */
export function isWrongResticKey(stderr: string): boolean {
  return /wrong password|no key found/.test(stderr)
}

/** What a shipped backup carries as tags: its directory's name, manifest checksum and size (restic 0.14's snapshots list no sizes). */
export interface ShippedBackup {
  name: string
  checksum: string
  sizeBytes: number
}

/**
 * Ships one backup directory: makes the repository on first use (restic init), then `restic backup`
 * of the directory by its absolute path, tagged. Prints restic's JSON summary (snapshot_id).
 */
export function resticShipCommand(repo: ResticRepo, dir: string, backup: ShippedBackup): RemoteCommand {
  return {
    script: resticShipLines(repo, {
      dir: quote(dir),
      name: quote(backup.name),
      checksum: quote(backup.checksum),
      sizeBytes: quote(backup.sizeBytes),
    }).join('\n'),
  }
}

/** The ship's lines with each value a shell word (quoted, or a variable set at run time by a scheduled job). */
export function resticShipLines(repo: ResticRepo, words: {dir: string; name: string; checksum: string; sizeBytes: string}): string[] {
  const tags = [quote(MARIADB_TAG), `name=${words.name}`, `sha256=${words.checksum}`, `size=${words.sizeBytes}`]
  return [
    ...resticEnvLines(repo),
    RESTIC_INIT_LINE,
    // A point-in-time restore from offsite chooses by these: the binlog position and when it was taken
    // (xtrabackup_binlog_info and its time). Only names and digits pass the sed: safe unquoted.
    `pitr_tags=; if bl=$(sed -n '1s/^\\([A-Za-z0-9_.-]*\\.[0-9][0-9]*\\)[[:space:]][[:space:]]*\\([0-9][0-9]*\\).*$/\\1:\\2/p' ${words.dir}/xtrabackup_binlog_info 2> /dev/null) && pt=$(stat -c %Y ${words.dir}/xtrabackup_binlog_info 2> /dev/null) && [ -n "$bl" ]; then pitr_tags="--tag binlog=$bl --tag point=$pt"; fi`,
    `rst backup --json --quiet ${tags.map((t) => `--tag ${t}`).join(' ')} $pitr_tags ${words.dir}`,
  ]
}

/** The snapshot id in `restic backup --json`'s summary line (restic 0.14 prints the short id). */
export function parseShipSummary(stdout: string): string | undefined {
  for (const line of stdout.split('\n').reverse()) {
    try {
      const value = JSON.parse(line) as {message_type?: string; snapshot_id?: string}
      if (value.message_type === 'summary' && typeof value.snapshot_id === 'string' && /^[0-9a-f]{8,64}$/.test(value.snapshot_id)) return value.snapshot_id
    } catch {
      // not JSON: skip
    }
  }
  return undefined
}

/**
 * Runs `list` (a restic command printing JSON) once, its stdout passed through, its stderr kept: an
 * absent repository prints `[]` (nothing shipped yet). Absent means the store answered that the
 * config is not there: restic asks "Is there a repository at the following location?" after ANY
 * failure to read it, an unreachable store (connection refused, TLS, credentials) included, which is
 * an error here (exit 4, restic's Fatal line on stderr), never an empty list. Any other failure keeps
 * restic's stderr and exit code. One restic run, not a `cat config` first: each run derives the key
 * (scrypt, about 0.7 s of CPU).
 */
export function resticListOrEmpty(list: string): string {
  const has = (pattern: string) => `printf %s "$err" | grep -qiE '${pattern}'`
  return [
    // stderr into $err, stdout to the caller (fd 3).
    `{ err=$( { ${list}; } 2>&1 1>&3 3>&-); rc=$?; } 3>&1`,
    `if [ "$rc" -eq 0 ]; then :`,
    `elif ${has('key does not exist|NoSuchKey|no such file or directory')} && ${has('Is there a repository at')}; then echo '[]'`,
    `elif ${has('Is there a repository at')}; then printf 'restic: %s\\n' "$(printf %s "$err" | grep -m 1 '^Fatal' || printf %s "$err" | tail -n 1)" >&2; exit 4`,
    `else printf '%s\\n' "$err" >&2; exit "$rc"; fi`,
  ].join('\n')
}

/** The repository's ctl snapshots as JSON (an absent repository prints `[]`: nothing shipped yet). */
export function resticSnapshotsScript(repo: ResticRepo): string {
  return [...resticEnvLines(repo), resticListOrEmpty(`rst snapshots --no-lock --json --tag ${MARIADB_TAG}`)].join('\n')
}

export interface ResticSnapshot {
  id: string
  time: string
  /** The backup directory as it was on the node. */
  path: string
  name: string
  checksum?: string
  sizeBytes: number
  /** The backup's binlog position (`file:position`) and its time, for point-in-time restores. */
  binlog?: {file: string; position: number}
  pointAt?: string
}

/** `restic snapshots --json`: only snapshots of one absolute directory, tagged by ctl. */
export function parseResticSnapshots(json: unknown): ResticSnapshot[] {
  if (!Array.isArray(json)) return []
  const out: ResticSnapshot[] = []
  for (const s of json as Record<string, unknown>[]) {
    const tags = Array.isArray(s.tags) ? s.tags.map(String) : []
    const tag = (key: string) => tags.find((t) => t.startsWith(`${key}=`))?.slice(key.length + 1)
    const paths = Array.isArray(s.paths) ? s.paths.map(String) : []
    const id = String(s.id ?? '')
    if (!/^[0-9a-f]{64}$/.test(id) || paths.length !== 1 || !posix.isAbsolute(paths[0]!) || !tags.includes(MARIADB_TAG)) continue
    const checksum = tag('sha256')
    const binlog = /^([A-Za-z0-9_.-]+\.\d+):(\d+)$/.exec(tag('binlog') ?? '')
    const point = tag('point')
    out.push({
      id,
      time: new Date(String(s.time)).toISOString(),
      path: paths[0]!,
      name: tag('name') ?? posix.basename(paths[0]!),
      ...(checksum && /^[0-9a-f]{64}$/.test(checksum) ? {checksum} : {}),
      sizeBytes: /^\d+$/.test(tag('size') ?? '') ? Number(tag('size')) : 0,
      ...(binlog && point && /^\d+$/.test(point)
        ? {binlog: {file: binlog[1]!, position: Number(binlog[2])}, pointAt: new Date(Number(point) * 1000).toISOString()}
        : {}),
    })
  }
  return out
}

/** A snapshot's address for people and for `--path`: `s3://bucket/path#<short id>`. */
export function snapshotAddress(repo: ResticRepo, snapshotId: string): string {
  return `${repo.where}#${snapshotId.slice(0, 8)}`
}
