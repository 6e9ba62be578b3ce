import {createHmac, generateKeyPairSync, randomBytes} from 'node:crypto'
import {createRequire} from 'node:module'
import {describe, expect, it} from 'vitest'
import {fingerprint, hostKeyAlgorithms, hostToken, keyTypeOf, parseKnownHosts, verifyHostKey} from '../../../src/ssh/known-hosts.js'

const sshString = (b: Buffer | string) => {
  const data = Buffer.from(b)
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  return Buffer.concat([length, data])
}

/** A fresh public key blob of the given kind in SSH wire format, as a server presents it. */
function keyBlob(kind: 'ed25519' | 'ecdsa' | 'rsa'): Buffer {
  if (kind === 'ed25519') {
    const {publicKey} = generateKeyPairSync('ed25519')
    return Buffer.concat([sshString('ssh-ed25519'), sshString(publicKey.export({format: 'der', type: 'spki'}).subarray(-32))])
  }
  if (kind === 'ecdsa') {
    const {publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
    return Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(publicKey.export({format: 'der', type: 'spki'}).subarray(-65))])
  }
  const jwk = generateKeyPairSync('rsa', {modulusLength: 1024}).publicKey.export({format: 'jwk'})
  const mpint = (b64: string) => {
    const raw = Buffer.from(b64, 'base64url')
    return sshString(raw[0]! & 0x80 ? Buffer.concat([Buffer.alloc(1), raw]) : raw)
  }
  return Buffer.concat([sshString('ssh-rsa'), mpint(jwk.e!), mpint(jwk.n!)])
}

const line = (host: string, blob: Buffer, marker = '') => `${marker ? `${marker} ` : ''}${host} ${keyTypeOf(blob)} ${blob.toString('base64')}`
const hashed = (token: string) => {
  const salt = randomBytes(20)
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(token).digest('base64')}`
}
const recorded = (blob: Buffer, lineNumber: number) => ({keyType: keyTypeOf(blob), fingerprint: fingerprint(blob), line: lineNumber})

describe('known_hosts', () => {
  const ed = keyBlob('ed25519')
  const ed2 = keyBlob('ed25519')
  const ec = keyBlob('ecdsa')
  const ec2 = keyBlob('ecdsa')
  const rsa = keyBlob('rsa')

  it('formats host tokens like OpenSSH', () => {
    expect(hostToken('10.0.0.1', 22)).toBe('10.0.0.1')
    expect(hostToken('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222')
  })

  it('reads the key type and fingerprint', () => {
    expect(keyTypeOf(ed)).toBe('ssh-ed25519')
    expect(keyTypeOf(ec)).toBe('ecdsa-sha2-nistp256')
    expect(keyTypeOf(rsa)).toBe('ssh-rsa')
    expect(fingerprint(ed)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/)
  })

  // [case, known_hosts text, host token, presented key, verdict]
  const cases: [string, string, string, Buffer, ReturnType<typeof verifyHostKey>][] = [
    ['recorded key', line('10.0.0.5', ed), '10.0.0.5', ed, {status: 'known'}],
    ['no line for the host', line('10.0.0.5', ed), '10.0.0.7', ec, {status: 'unknown'}],
    ['empty file', '', '10.0.0.5', ed, {status: 'unknown'}],
    ['same type, other key', line('10.0.0.5', ed), '10.0.0.5', ed2, {status: 'changed', recorded: [recorded(ed, 1)]}],
    ['ed25519 recorded, ecdsa presented', line('10.0.0.5', ed), '10.0.0.5', ec, {status: 'changed', recorded: [recorded(ed, 1)]}],
    ['ed25519 recorded, rsa presented', line('10.0.0.5', ed), '10.0.0.5', rsa, {status: 'changed', recorded: [recorded(ed, 1)]}],
    ['comments and blank lines keep line numbers', `# keys\n\n${line('10.0.0.5', ec)}`, '10.0.0.5', ed, {status: 'changed', recorded: [recorded(ec, 3)]}],
    ['one of several lines (names list)', `${line('db-1,10.0.0.5', ed)}\n${line('10.0.0.5', ec)}`, '10.0.0.5', ec, {status: 'known'}],
    ['one of several keys, by name', `${line('db-1,10.0.0.5', ed)}\n${line('10.0.0.5', ec)}`, 'db-1', ed, {status: 'known'}],
    [
      'several keys, none presented',
      `${line('db-1,10.0.0.5', ed)}\n${line('10.0.0.5', ec)}`,
      '10.0.0.5',
      rsa,
      {status: 'changed', recorded: [recorded(ed, 1), recorded(ec, 2)]},
    ],
    ["other hosts' keys do not count", `${line('10.0.0.6', ec)}\n${line('10.0.0.5', ed)}`, '10.0.0.5', ec, {status: 'changed', recorded: [recorded(ed, 2)]}],
    ['hashed entry', line(hashed('10.0.0.9'), ed), '10.0.0.9', ed, {status: 'known'}],
    ['hashed entry, other type presented', line(hashed('10.0.0.9'), ed), '10.0.0.9', ec, {status: 'changed', recorded: [recorded(ed, 1)]}],
    ['hashed entry of another host', line(hashed('10.0.0.9'), ed), '10.0.0.10', ec, {status: 'unknown'}],
    ['[host]:port entry', line('[10.0.0.6]:2222', ed), '[10.0.0.6]:2222', ed, {status: 'known'}],
    ['[host]:port entry, other type presented', line('[10.0.0.6]:2222', ed), '[10.0.0.6]:2222', ec, {status: 'changed', recorded: [recorded(ed, 1)]}],
    ['[host]:port entry does not cover port 22', line('[10.0.0.6]:2222', ed), '10.0.0.6', ec, {status: 'unknown'}],
    [
      'hashed [host]:port entry, other type presented',
      line(hashed('[10.0.0.6]:2222'), ed),
      '[10.0.0.6]:2222',
      ec,
      {status: 'changed', recorded: [recorded(ed, 1)]},
    ],
    ['wildcard pattern', line('10.0.0.*', ed), '10.0.0.42', ec, {status: 'changed', recorded: [recorded(ed, 1)]}],
    ['negated pattern excludes the host', line('10.0.0.*,!10.0.0.42', ed), '10.0.0.42', ec, {status: 'unknown'}],
    ['@revoked key', `${line('10.0.0.5', ed)}\n${line('*', ec, '@revoked')}`, '10.0.0.5', ec, {status: 'revoked'}],
    ['@revoked wins over a plain line', `${line('10.0.0.5', ec)}\n${line('*', ec, '@revoked')}`, '10.0.0.5', ec, {status: 'revoked'}],
    ['@revoked line alone records no key', line('*', ec2, '@revoked'), '10.0.0.5', ec, {status: 'unknown'}],
    [
      '@cert-authority line records no host key (ctl checks no certificates)',
      line('*.example.com', ed, '@cert-authority'),
      'db.example.com',
      ec,
      {status: 'unknown'},
    ],
    [
      '@cert-authority line is not a recorded key to compare',
      `${line('*.example.com', ed, '@cert-authority')}\n${line('db.example.com', ec2)}`,
      'db.example.com',
      ec,
      {status: 'changed', recorded: [recorded(ec2, 2)]},
    ],
  ]

  it.each(cases)('%s', (_name, text, token, presented, verdict) => {
    expect(verifyHostKey(parseKnownHosts(text), token, presented)).toEqual(verdict)
  })

  it("asks for the recorded key types first, then the others in ssh2's order", () => {
    const ssh2Defaults: string[] = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js').DEFAULT_SERVER_HOST_KEY
    // With nothing recorded ctl offers exactly what ssh2 would.
    expect(hostKeyAlgorithms([], '10.0.0.5')).toEqual(ssh2Defaults)
    const rest = (...first: string[]) => [...first, ...ssh2Defaults.filter((a) => !first.includes(a))]
    const table: [string, string, string[]][] = [
      [line('10.0.0.5', ed), '10.0.0.5', ssh2Defaults],
      [line('10.0.0.5', ec), '10.0.0.5', rest('ecdsa-sha2-nistp256')],
      [line('10.0.0.5', ec), '10.0.0.6', ssh2Defaults],
      [line(hashed('[10.0.0.5]:2222'), ec), '[10.0.0.5]:2222', rest('ecdsa-sha2-nistp256')],
      [line('10.0.0.5', rsa), '10.0.0.5', rest('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa')],
      [`${line('10.0.0.5', rsa)}\n${line('10.0.0.5', ec)}`, '10.0.0.5', rest('ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa')],
      [`${line('*', ec, '@revoked')}\n${line('10.0.0.5', ec, '@cert-authority')}`, '10.0.0.5', ssh2Defaults],
    ]
    for (const [text, token, expected] of table) expect(hostKeyAlgorithms(parseKnownHosts(text), token), `${text} for ${token}`).toEqual(expected)
  })
})
