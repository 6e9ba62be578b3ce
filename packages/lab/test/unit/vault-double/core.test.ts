import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {decodeKey, parseGoBool, sealConfigProblem, VaultDoubleNode} from '../../../src/vault-double/core.js'

describe('decodeKey (Vault: hex when the length is plausible, else base64)', () => {
  it.each([
    ['33 bytes of hex', 'ab'.repeat(33), Buffer.alloc(33, 0xab)],
    ['base64 of 33 bytes', Buffer.alloc(33, 7).toString('base64'), Buffer.alloc(33, 7)],
    ['hex too short for a key is read as base64', 'abcd', Buffer.from('abcd', 'base64')],
  ])('%s', (_name, text, expected) => {
    expect(decodeKey(text)?.equals(expected)).toBe(true)
  })

  it.each(['not a key!', 'abc', 'zz=='.slice(0, 3)])('refuses %j', (text) => {
    expect(decodeKey(text)).toBeUndefined()
  })
})

describe('parseGoBool', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['T', true],
    ['false', false],
    ['0', false],
    ['', undefined],
    ['yes', undefined],
  ])('%j → %s', (text, expected) => {
    expect(parseGoBool(text)).toBe(expected)
  })
})

describe('sealConfigProblem (vault/seal_config.go)', () => {
  it.each([
    [5, 3, undefined, undefined],
    [1, 1, undefined, undefined],
    [0, 0, undefined, 'shares must be at least one'],
    [3, 0, undefined, 'threshold must be at least one'],
    [3, 1, undefined, 'threshold must be greater than one for multiple shares'],
    [256, 3, undefined, 'shares must be less than 256'],
    [3, 5, undefined, 'threshold cannot be larger than shares'],
    [3, 2, ['a', 'b'], 'count mismatch between number of provided PGP keys and number of shares'],
  ])('%i shares, threshold %i, pgp %j → %s', (shares, threshold, pgp, expected) => {
    expect(sealConfigProblem(shares, threshold, pgp)).toBe(expected)
  })
})

describe('VaultDoubleNode.init', () => {
  it('lets exactly one of two concurrent inits through, as Vault does', async () => {
    const node = new VaultDoubleNode({
      nodeId: 'n1',
      apiAddr: 'http://n1',
      clusterAddr: 'n1:8201',
      stateDir: mkdtempSync(join(tmpdir(), 'ctl-double-')),
      callPeer: async () => ({status: 502}),
    })
    const replies = await Promise.all([node.init({secret_shares: 3, secret_threshold: 2}), node.init({secret_shares: 3, secret_threshold: 2})])
    expect(replies.map((r) => r.status).sort()).toEqual([200, 400])
    expect(replies.find((r) => r.status === 400)!.body).toEqual({errors: ['Vault is already initialized']})
  })
})
