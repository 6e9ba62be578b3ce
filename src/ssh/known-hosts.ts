import {createHash, createHmac} from 'node:crypto'
import {appendFileSync, existsSync, mkdirSync, readFileSync} from 'node:fs'
import {dirname} from 'node:path'
import type {ServerHostKeyAlgorithm} from 'ssh2'

/** known_hosts handling: host keys are always verified; ctl never turns checking off. */

export interface KnownHostEntry {
  patterns: string[]
  hashed?: {salt: Buffer; hash: Buffer}
  keyType: string
  /** Base64 of the key blob, as in the file. */
  key: string
  marker?: string
  /** 1-based line number in the file, for messages that send the operator there. */
  line: number
}

/** How a host appears in known_hosts: `addr` on port 22, `[addr]:port` otherwise. */
export function hostToken(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const fields = line.split(/\s+/)
    let marker: string | undefined
    if (fields[0]?.startsWith('@')) marker = fields.shift()
    if (fields.length < 3) continue
    const [hostField, keyType, key] = fields as [string, string, string]
    if (hostField.startsWith('|1|')) {
      const [, , salt, hash] = hostField.split('|')
      entries.push({
        patterns: [],
        hashed: {salt: Buffer.from(salt ?? '', 'base64'), hash: Buffer.from(hash ?? '', 'base64')},
        keyType,
        key,
        marker,
        line: index + 1,
      })
    } else {
      entries.push({patterns: hostField.split(','), keyType, key, marker, line: index + 1})
    }
  }
  return entries
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.')
  return new RegExp(`^${escaped}$`, 'i')
}

function entryMatchesHost(entry: KnownHostEntry, token: string): boolean {
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(token).digest()
    return digest.equals(entry.hashed.hash)
  }
  let matched = false
  for (const pattern of entry.patterns) {
    if (pattern.startsWith('!')) {
      if (globToRegExp(pattern.slice(1)).test(token)) return false
    } else if (globToRegExp(pattern).test(token)) {
      matched = true
    }
  }
  return matched
}

/** The key type named inside an SSH key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, ...). */
export function keyTypeOf(blob: Buffer): string {
  const length = blob.readUInt32BE(0)
  return blob.subarray(4, 4 + length).toString('ascii')
}

/** OpenSSH's fingerprint format: `SHA256:` and unpadded base64 of the blob's SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

/** A key known_hosts records for a host, as shown to the operator. */
interface RecordedKey {
  keyType: string
  fingerprint: string
  line: number
}

export type HostKeyVerdict =
  | {status: 'known'}
  /** No key of any type is recorded for this host. */
  | {status: 'unknown'}
  /** Keys are recorded for this host and the presented one (of whatever type) is not among them: possibly a man-in-the-middle. */
  | {status: 'changed'; recorded: RecordedKey[]}
  | {status: 'revoked'}

/** The plain (unmarked) lines recording a key for this host. `@cert-authority` lines are not host keys: ctl checks no certificates. */
export function recordedFor(entries: KnownHostEntry[], token: string): KnownHostEntry[] {
  return entries.filter((e) => !e.marker && entryMatchesHost(e, token))
}

/**
 * Compares the key a host presented with what known_hosts records for it. A host with any recorded
 * key is a known host: a key it presents that is not recorded, of the same type or another, is
 * "changed" (OpenSSH would ask; ctl refuses), never "unknown", so `ctl ssh trust` cannot add it.
 */
export function verifyHostKey(entries: KnownHostEntry[], token: string, blob: Buffer): HostKeyVerdict {
  const presented = blob.toString('base64')
  const revoked = entries.some((e) => e.marker === '@revoked' && e.key === presented && entryMatchesHost(e, token))
  if (revoked) return {status: 'revoked'}
  const recorded = recordedFor(entries, token)
  if (recorded.some((e) => e.key === presented)) return {status: 'known'}
  if (recorded.length === 0) return {status: 'unknown'}
  return {status: 'changed', recorded: recorded.map((e) => ({keyType: e.keyType, fingerprint: fingerprint(Buffer.from(e.key, 'base64')), line: e.line}))}
}

/** The host key algorithms ctl accepts, in ssh2's order of preference. */
const HOST_KEY_ALGORITHMS: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
}

/**
 * The host key algorithms to offer, those of the host's recorded key types first. The server picks
 * the first one it has, so a host that still has its recorded key presents that one, and the check
 * (which refuses any other) sees the key it would have seen; one that does not presents another
 * type, which the check then refuses as changed.
 */
export function hostKeyAlgorithms(entries: KnownHostEntry[], token: string): ServerHostKeyAlgorithm[] {
  const recordedTypes = new Set(recordedFor(entries, token).map((e) => e.keyType))
  const all = Object.entries(HOST_KEY_ALGORITHMS)
  return [...all.filter(([type]) => recordedTypes.has(type)), ...all.filter(([type]) => !recordedTypes.has(type))].flatMap(([, algorithms]) => algorithms)
}

export function readKnownHosts(path: string): KnownHostEntry[] {
  return existsSync(path) ? parseKnownHosts(readFileSync(path, 'utf8')) : []
}

/** Appends a host key line; the file is created 0600 when missing. */
export function appendKnownHost(path: string, token: string, blob: Buffer): void {
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : ''
  const prefix = existing && !existing.endsWith('\n') ? '\n' : ''
  appendFileSync(path, `${prefix}${token} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`, {mode: 0o600})
}
