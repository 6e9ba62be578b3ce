import {describe, expect, it} from 'vitest'
import {dearmor, pgpKeyForVault} from '../../../src/vault/pgp.js'

const binary = Buffer.from([0x99, 0x01, 0x0d, 0x04, 0x65, 0x66, 0x67, 0x68, 0x69, 0x70, 0x71, 0x72])
const armored = [
  '-----BEGIN PGP PUBLIC KEY BLOCK-----',
  'Comment: holder one',
  '',
  binary.toString('base64').slice(0, 8),
  binary.toString('base64').slice(8),
  '=abcd',
  '-----END PGP PUBLIC KEY BLOCK-----',
  '',
].join('\n')

describe('PGP keys for sys/init', () => {
  it('dearmors: drops headers and the checksum line', () => {
    expect(dearmor(armored).equals(binary)).toBe(true)
    expect(dearmor(armored.replace('Comment: holder one\n', '')).equals(binary)).toBe(true)
  })

  it('gives Vault base64 of the binary key, from armored or binary files', () => {
    expect(pgpKeyForVault(Buffer.from(armored), 'a.asc')).toBe(binary.toString('base64'))
    expect(pgpKeyForVault(binary, 'a.gpg')).toBe(binary.toString('base64'))
  })

  it('refuses a file that is no PGP key', () => {
    expect(() => pgpKeyForVault(Buffer.from('ssh-ed25519 AAAA...'), 'id.pub')).toThrow(/id.pub is not a PGP public key/)
    expect(() => dearmor('nothing here')).toThrow(/no ASCII-armored/)
  })
})
