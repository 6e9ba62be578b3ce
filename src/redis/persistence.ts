import {quote, type RemoteCommand} from '../lib/shell.js'

/**
 * What a stopped redis-server left on disk, read on its node: the AOF directory (a manifest, its base
 * and incremental files) or the RDB snapshot, with their sizes and modification times, and the node's
 * clock, so the age of the last write is measured by the node's own clock (no skew between nodes). Pure.
 *
 * Why times and not replication offsets: a stopped server's offset survives only in an RDB's aux
 * fields, and with AOF on (the seeds' setting) Redis 7 writes none into the AOF. The incremental AOF
 * file is appended on every write the member applied (its own, or replicated): its modification time
 * is the time of the member's last write. An RDB written by `save` is stamped when it was saved, so it
 * counts only where there is no AOF (Redis then loads the RDB).
 */

export interface RedisPersistence {
  node: string
  /** The data directory exists. */
  found: boolean
  /** Which files Redis would load: the AOF (manifest present) or the RDB. */
  kind?: 'aof' | 'rdb'
  /** The files counted (relative to the data directory). */
  files: string[]
  bytes: number
  /** Seconds between the member's last persisted write and now, by the node's clock. */
  lastWriteAgeSeconds?: number
  /** The age is the last write's (an incremental AOF with writes); else the time the base or RDB was made, when its data was at most that new. */
  exact?: boolean
  error?: string
}

/** `now <epoch>` then `<mtime> <size> <path>` per file, up to one directory down (appenddirname). */
export function redisPersistenceCommand(dataDir: string): RemoteCommand {
  return {
    script: [
      `d=${quote(dataDir)}`,
      '[ -d "$d" ] || { echo nodir; exit 0; }',
      'echo "now $(date +%s.%N)"',
      `find "$d" -mindepth 1 -maxdepth 2 -type f \\( -name '*.rdb' -o -name '*.aof' -o -name '*.manifest' \\) -printf '%T@ %s %P\\n'`,
    ].join('\n'),
  }
}

interface FileLine {
  mtime: number
  size: number
  path: string
}

export function parseRedisPersistence(node: string, stdout: string): RedisPersistence {
  const lines = stdout.split('\n').map((l) => l.trim())
  if (lines.includes('nodir')) return {node, found: false, files: [], bytes: 0}
  const now = Number(/^now (\d+(?:\.\d+)?)$/m.exec(stdout)?.[1])
  if (!Number.isFinite(now)) return {node, found: false, files: [], bytes: 0, error: 'the node did not say its time'}
  const files: FileLine[] = []
  for (const line of lines) {
    const m = /^(\d+(?:\.\d+)?) (\d+) (.+)$/.exec(line)
    if (m) files.push({mtime: Number(m[1]), size: Number(m[2]), path: m[3]!})
  }
  // The AOF: the files beside a manifest (Redis 7's appendonlydir); what the manifest names is all there is.
  const manifest = files.find((f) => f.path.endsWith('.manifest'))
  const dir = manifest ? manifest.path.slice(0, manifest.path.lastIndexOf('/') + 1) : undefined
  const aof = manifest ? files.filter((f) => f !== manifest && f.path.startsWith(dir!) && /\.(base|incr)\.(aof|rdb)$/.test(f.path)) : []
  const counted = aof.length > 0 ? aof : files.filter((f) => !f.path.includes('/') && f.path.endsWith('.rdb'))
  if (counted.length === 0) return {node, found: true, files: [], bytes: 0}
  // Only an incremental file that holds writes dates the last write. A base (or an RDB) is stamped when
  // it was made (a rewrite, a full resync, a save), later than the writes it holds: an upper bound.
  const written = counted.filter((f) => /\.incr\.aof$/.test(f.path) && f.size > 0)
  const bases = counted.filter((f) => !/\.incr\.aof$/.test(f.path))
  const last = Math.max(...(written.length > 0 ? written : bases.length > 0 ? bases : counted).map((f) => f.mtime))
  return {
    node,
    found: true,
    kind: aof.length > 0 ? 'aof' : 'rdb',
    files: counted.map((f) => f.path),
    bytes: counted.reduce((sum, f) => sum + f.size, 0),
    lastWriteAgeSeconds: Math.max(0, Math.round((now - last) * 1000) / 1000),
    exact: written.length > 0,
  }
}
