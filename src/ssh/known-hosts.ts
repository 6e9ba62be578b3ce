import {createHash, createHmac} from 'node:crypto'
import {appendFileSync, existsSync, mkdirSync, readFileSync} from 'node:fs'
import {dirname} from 'node:path'

/** known_hosts handling: host keys are always verified; ctl never turns checking off. */

export interface KnownHostEntry {
  patterns: string[]
  hashed?: {salt: Buffer; hash: Buffer}
  keyType: string
  /** Base64 of the key blob, as in the file. */
  key: string
  marker?: string
}

/** How a host appears in known_hosts: `addr` on port 22, `[addr]:port` otherwise. */
export function hostToken(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const fields = line.split(/\s+/)
    let marker: string | undefined
    if (fields[0]?.startsWith('@')) marker = fields.shift()
    if (fields.length < 3) continue
    const [hostField, keyType, key] = fields as [string, string, string]
    if (hostField.startsWith('|1|')) {
      const [, , salt, hash] = hostField.split('|')
      entries.push({patterns: [], hashed: {salt: Buffer.from(salt ?? '', 'base64'), hash: Buffer.from(hash ?? '', 'base64')}, keyType, key, marker})
    } else {
      entries.push({patterns: hostField.split(','), keyType, key, marker})
    }
  }
  return entries
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')
  return new RegExp(`^${escaped}$`, 'i')
}

export function entryMatchesHost(entry: KnownHostEntry, token: string): boolean {
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

export type HostKeyVerdict =
  | {status: 'known'}
  | {status: 'unknown'}
  /** A different key is recorded for this host: possibly a man-in-the-middle. */
  | {status: 'changed'; recordedFingerprints: string[]}
  | {status: 'revoked'}

/** Compares the key a host presented with what known_hosts records for it. */
export function verifyHostKey(entries: KnownHostEntry[], token: string, blob: Buffer): HostKeyVerdict {
  const presented = blob.toString('base64')
  const type = keyTypeOf(blob)
  const forHost = entries.filter((e) => entryMatchesHost(e, token))
  if (forHost.some((e) => e.marker === '@revoked' && e.key === presented)) return {status: 'revoked'}
  const plain = forHost.filter((e) => !e.marker)
  if (plain.some((e) => e.key === presented)) return {status: 'known'}
  const sameType = plain.filter((e) => e.keyType === type)
  if (sameType.length > 0) {
    return {status: 'changed', recordedFingerprints: sameType.map((e) => fingerprint(Buffer.from(e.key, 'base64')))}
  }
  return {status: 'unknown'}
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
