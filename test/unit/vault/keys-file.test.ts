import {existsSync, mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {assertKeysFileWritable, keysFileContent, writeKeysFileOnce} from '../../../src/vault/keys-file.js'

const init = {keys: ['aa', 'bb', 'cc'], keys_base64: ['qg==', 'uw==', 'zA=='], root_token: 'hvs.root'}

describe('keys file', () => {
  it('holds the shares and root token under the names of `vault operator init -format=json`', () => {
    const content = keysFileContent(init, {env: 'lab', node: 'h1', shares: 3, threshold: 2, now: new Date('2026-01-02T03:04:05Z')})
    expect(content).toEqual({
      unseal_keys_b64: ['qg==', 'uw==', 'zA=='],
      unseal_keys_hex: ['aa', 'bb', 'cc'],
      unseal_shares: 3,
      unseal_threshold: 2,
      pgp_encrypted: false,
      root_token: 'hvs.root',
      env: 'lab',
      initialized_on: 'h1',
      created_at: '2026-01-02T03:04:05.000Z',
    })
    expect(keysFileContent(init, {env: 'p', node: 'v1', shares: 3, threshold: 2, pgpKeyFiles: ['/k/a.asc']})).toMatchObject({
      pgp_encrypted: true,
      pgp_key_files: ['/k/a.asc'],
    })
  })

  it('is created with mode 0600 (even under a permissive umask) in a new 0700 directory', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ctl-keys-')), 'sub', 'vault-keys.json')
    const old = process.umask(0o000)
    try {
      assertKeysFileWritable(path)
      writeKeysFileOnce(path, keysFileContent(init, {env: 'lab', node: 'h1', shares: 3, threshold: 2}))
    } finally {
      process.umask(old)
    }
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700)
    expect(JSON.parse(readFileSync(path, 'utf8')).root_token).toBe('hvs.root')
  })

  it('the preflight creates nothing (init may be a dry run) and refuses a path under a file', () => {
    const base = mkdtempSync(join(tmpdir(), 'ctl-keys-'))
    assertKeysFileWritable(join(base, 'new', 'dir', 'vault-keys.json'))
    expect(existsSync(join(base, 'new'))).toBe(false)
    writeFileSync(join(base, 'plain-file'), '')
    expect(() => assertKeysFileWritable(join(base, 'plain-file', 'vault-keys.json'))).toThrow(/is not a directory/)
  })

  it('is never overwritten: the preflight refuses and so does the write', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ctl-keys-')), 'vault-keys.json')
    writeFileSync(path, 'earlier keys')
    expect(() => assertKeysFileWritable(path)).toThrow(/already exists/)
    expect(() => writeKeysFileOnce(path, keysFileContent(init, {env: 'lab', node: 'h1', shares: 3, threshold: 2}))).toThrow(/EEXIST/)
    expect(readFileSync(path, 'utf8')).toBe('earlier keys')
  })
})
