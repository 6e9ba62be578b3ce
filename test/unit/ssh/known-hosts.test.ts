import {createHmac, generateKeyPairSync, randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {fingerprint, hostToken, keyTypeOf, parseKnownHosts, verifyHostKey} from '../../../src/ssh/known-hosts.js'

/** An ed25519 public key blob in SSH wire format. */
function ed25519Blob(): Buffer {
  const {publicKey} = generateKeyPairSync('ed25519')
  const raw = publicKey.export({format: 'der', type: 'spki'}).subarray(-32)
  const type = Buffer.from('ssh-ed25519')
  const len = (b: Buffer) => {
    const l = Buffer.alloc(4)
    l.writeUInt32BE(b.length)
    return l
  }
  return Buffer.concat([len(type), type, len(raw), raw])
}

describe('known_hosts', () => {
  const key = ed25519Blob()
  const other = ed25519Blob()
  const line = (host: string, blob: Buffer) => `${host} ssh-ed25519 ${blob.toString('base64')}`

  it('formats host tokens like OpenSSH', () => {
    expect(hostToken('10.0.0.1', 22)).toBe('10.0.0.1')
    expect(hostToken('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222')
  })

  it('reads the key type and fingerprint', () => {
    expect(keyTypeOf(key)).toBe('ssh-ed25519')
    expect(fingerprint(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/)
  })

  it('knows a recorded key, refuses an unknown host and flags a changed key', () => {
    const entries = parseKnownHosts(`# comment\n${line('db-1,10.0.0.5', key)}\n${line('[10.0.0.6]:2222', key)}\n`)
    expect(verifyHostKey(entries, '10.0.0.5', key)).toEqual({status: 'known'})
    expect(verifyHostKey(entries, '[10.0.0.6]:2222', key)).toEqual({status: 'known'})
    expect(verifyHostKey(entries, '10.0.0.6', key)).toEqual({status: 'unknown'})
    expect(verifyHostKey(entries, '10.0.0.7', key)).toEqual({status: 'unknown'})
    const changed = verifyHostKey(entries, '10.0.0.5', other)
    expect(changed.status).toBe('changed')
    expect(changed).toHaveProperty('recordedFingerprints', [fingerprint(key)])
  })

  it('matches hashed entries and honours @revoked', () => {
    const salt = randomBytes(20)
    const hash = createHmac('sha1', salt).update('10.0.0.9').digest()
    const entries = parseKnownHosts(`|1|${salt.toString('base64')}|${hash.toString('base64')} ssh-ed25519 ${key.toString('base64')}\n@revoked * ssh-ed25519 ${other.toString('base64')}\n`)
    expect(verifyHostKey(entries, '10.0.0.9', key)).toEqual({status: 'known'})
    expect(verifyHostKey(entries, '10.0.0.10', key)).toEqual({status: 'unknown'})
    expect(verifyHostKey(entries, '10.0.0.9', other)).toEqual({status: 'revoked'})
  })
})
