import {execa} from 'execa'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl, type CliRun} from '../support/cli.js'
import {api, startTestCluster, vaultBinary, type TestCluster} from './vault-servers.js'

/**
 * `ctl vault init` with vault.pgpKeys: each share comes back encrypted for its holder (real gpg keys
 * made here), ctl cannot and does not unseal; two holders decrypt theirs and `ctl vault unseal`
 * unseals the first node, joins the other two through Raft and unseals them.
 */

const dir = mkdtempSync(join(tmpdir(), 'ctl-vault-pgp-'))
const gnupgHome = join(dir, 'gnupg')
const holders = ['alice', 'bob', 'carol']
let cluster: TestCluster
let inventory: string
const keysFile = join(dir, 'keys', 'vault-keys.json')
const output = (run: CliRun) => `${run.stdout}\n${run.stderr}`

async function gpg(args: string[], input?: string | Buffer) {
  return execa('gpg', ['--homedir', gnupgHome, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {input, encoding: 'utf8'})
}

beforeAll(async () => {
  await execa('mkdir', ['-m', '700', gnupgHome])
  for (const holder of holders) {
    await gpg(['--quick-gen-key', `${holder} <${holder}@lab.invalid>`, 'future-default', 'default', '0'])
    writeFileSync(join(dir, `${holder}.asc`), (await gpg(['--export', '--armor', `${holder}@lab.invalid`])).stdout)
  }
  cluster = await startTestCluster(vaultBinary() ? 'vault' : 'double')
  const ports = cluster.addrs.map((a) => Number(new URL(a).port))
  inventory = join(dir, 'pgp.yml')
  writeFileSync(
    inventory,
    [
      'name: pgp',
      'nodes:',
      ...ports.map((_, i) => `  - {name: n${i + 1}, address: 127.0.0.1, role: none}`),
      'vault:',
      '  members:',
      ...ports.map((port, i) => `    - {node: n${i + 1}, port: ${port}, scheme: http}`),
      '  keyShares: 3',
      '  keyThreshold: 2',
      `  pgpKeys: [${holders.map((h) => `${h}.asc`).join(', ')}]`,
      `  keysFile: ${keysFile}`,
      '',
    ].join('\n'),
  )
}, 120_000)

afterAll(async () => {
  await cluster?.stop()
})

describe('ctl vault init with PGP keys, then unseal by the key holders', () => {
  it('init returns one encrypted share per holder and leaves the unsealing to them', async () => {
    const init = await runCtl(['vault', 'init', inventory, '--yes', '--json'], {env: {CTL_AUDIT_LOG: join(dir, 'audit.log')}})
    expect(init.exitCode, output(init)).toBe(0)
    const result = json(init)
    expect(result).toMatchObject({pgpEncrypted: true, initializedOn: 'n1', keysFile})
    expect(result.next).toMatch(/ctl vault unseal/)
    const keys = JSON.parse(readFileSync(keysFile, 'utf8'))
    expect(keys).toMatchObject({pgp_encrypted: true, unseal_shares: 3, unseal_threshold: 2})
    expect(keys.pgp_key_files).toEqual(holders.map((h) => join(dir, `${h}.asc`)))
    expect((await api(cluster.addrs[0]!, 'GET', 'sys/seal-status')).body).toMatchObject({initialized: true, sealed: true})
    expect((await api(cluster.addrs[1]!, 'GET', 'sys/seal-status')).body.initialized).toBe(false)

    // The encrypted shares are no use as they are.
    const refused = await runCtl(['vault', 'unseal', inventory, '--keys-file', keysFile])
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toMatch(/PGP-encrypted/)
  })

  it('two holders decrypt their shares; unseal joins n2 and n3 and the cluster is whole', async () => {
    const keys = JSON.parse(readFileSync(keysFile, 'utf8'))
    const decrypted: string[] = []
    for (const i of [0, 2]) {
      const plain = await gpg(['--decrypt'], Buffer.from(keys.unseal_keys_b64[i], 'base64'))
      decrypted.push(plain.stdout.trim())
    }
    for (const share of decrypted) expect(share).toMatch(/^[0-9a-f]{66}$/)
    const unseal = await runCtl(['vault', 'unseal', inventory, '--keys-file', '-', '--json'], {
      input: decrypted.join('\n'),
      env: {VAULT_TOKEN: keys.root_token},
    })
    expect(unseal.exitCode, output(unseal)).toBe(0)
    const result = json(unseal)
    expect(result.plan).toMatchObject({unseal: ['n1'], join: ['n2', 'n3'], threshold: 2})
    expect(result.outcomes.map((o: any) => [o.node, o.action])).toEqual([
      ['n1', 'unsealed'],
      ['n2', 'joined+unsealed'],
      ['n3', 'joined+unsealed'],
    ])
    expect(result.verdict).toMatchObject({ok: true, active: 'n1', peersChecked: true})
    const config = await api(cluster.addrs[0]!, 'GET', 'sys/storage/raft/configuration', undefined, keys.root_token)
    expect(config.body.data.config.servers.map((s: any) => s.node_id).sort()).toEqual(['n1', 'n2', 'n3'])
  })
})
