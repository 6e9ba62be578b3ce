import {mkdtempSync, readFileSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {labVaultKeysFile, wipeVaultNodes} from '../../packages/lab/src/components/vault.js'
import {labHosts} from '../../packages/lab/src/instance.js'
import {labContext} from '../../packages/lab/src/runner.js'
import {DEFAULT_LAB_INSTANCE} from '../../packages/lab/src/types.js'
import {json, projectRoot, runCtl, type CliRun} from '../support/cli.js'

/**
 * Issue 9's acceptance in the lab: `ctl vault init lab` on the three lab Vault nodes (the double, or
 * real servers when a vault binary is on PATH), the keys kept safe, a second init refused, and after
 * restarting the nodes `ctl vault unseal lab` with the threshold of shares unseals all three.
 * The oracle is each node's own API, read here directly, not ctl's report alone.
 */

const addrs = ['http://198.18.0.11:8200', 'http://198.18.0.12:8200', 'http://198.18.0.13:8200']
const auditLog = join(mkdtempSync(join(tmpdir(), 'ctl-vault-audit-')), 'audit.log')
const env = {CTL_AUDIT_LOG: auditLog}
const keysFile = labVaultKeysFile(projectRoot)

async function health(addr: string): Promise<number> {
  return (await fetch(`${addr}/v1/sys/health`, {signal: AbortSignal.timeout(5000)})).status
}

async function sealStatus(addr: string): Promise<{initialized: boolean; sealed: boolean; t: number; n: number}> {
  return (await fetch(`${addr}/v1/sys/seal-status`, {signal: AbortSignal.timeout(5000)})).json() as any
}

/** Every secret of the keys file, in every form it was handed out in. */
function secrets(): string[] {
  const keys = JSON.parse(readFileSync(keysFile, 'utf8'))
  return [...keys.unseal_keys_b64, ...keys.unseal_keys_hex, keys.root_token]
}

function expectNoSecret(text: string, where: string): void {
  for (const secret of secrets()) expect(text.includes(secret), `a key or the root token appears in ${where}`).toBe(false)
}

const output = (run: CliRun) => `${run.stdout}\n${run.stderr}`

describe('ctl vault init / status / unseal on the lab', () => {
  const runs: CliRun[] = []
  const ctl = async (args: string[], options: {input?: string; env?: Record<string, string>} = {}) => {
    const run = await runCtl(args, {env: {...env, ...options.env}, input: options.input})
    runs.push(run)
    return run
  }

  beforeAll(async () => {
    // Start from an uninitialized cluster: init happens once per cluster.
    await wipeVaultNodes(labContext(DEFAULT_LAB_INSTANCE, labHosts(3)))
    const up = await runCtl(['lab', 'up', '--only', 'vault', '--json'])
    expect(up.exitCode, output(up)).toBe(0)
    for (const addr of addrs) expect((await sealStatus(addr)).initialized).toBe(false)
  })

  it('init: 3 Raft peers, one active, all unsealed; keys only in a 0600 file', async () => {
    const dry = await ctl(['vault', 'init', 'lab', '--dry-run'])
    expect(dry.exitCode, output(dry)).toBe(0)
    expect((await sealStatus(addrs[0]!)).initialized).toBe(false)

    const init = await ctl(['vault', 'init', 'lab', '--yes'])
    expect(init.exitCode, output(init)).toBe(0)
    expect(init.stdout).toContain(`Keys and root token written to ${keysFile} (mode 0600)`)
    expect(init.stdout).toMatch(/Cluster OK: h1 active, 3 Raft peers/)
    expect(statSync(keysFile).mode & 0o777).toBe(0o600)
    const keys = JSON.parse(readFileSync(keysFile, 'utf8'))
    expect(keys).toMatchObject({unseal_shares: 5, unseal_threshold: 3, pgp_encrypted: false, env: 'lab', initialized_on: 'h1'})
    expect(keys.unseal_keys_b64).toHaveLength(5)

    // The nodes' own answers: one active (200), two standby (429), Raft lists all three.
    expect((await Promise.all(addrs.map(health))).sort()).toEqual([200, 429, 429])
    const config = await fetch(`${addrs[0]}/v1/sys/storage/raft/configuration`, {headers: {'x-vault-token': keys.root_token}})
    const servers = ((await config.json()) as any).data.config.servers as Array<{node_id: string}>
    expect(servers.map((s) => s.node_id).sort()).toEqual(['h1', 'h2', 'h3'])

    const status = await ctl(['vault', 'status', 'lab', '--json'], {env: {VAULT_TOKEN: keys.root_token}})
    expect(status.exitCode, output(status)).toBe(0)
    const result = json(status)
    expect(result.verdict).toEqual({ok: true, active: 'h1', peersChecked: true, problems: []})
    expect(result.nodes.map((n: any) => [n.node, n.initialized, n.sealed, n.haMode])).toEqual([
      ['h1', true, false, 'active'],
      ['h2', true, false, 'standby'],
      ['h3', true, false, 'standby'],
    ])
    expect(result.raft.servers).toHaveLength(3)
  })

  it('a second init is refused and changes nothing', async () => {
    const before = readFileSync(keysFile, 'utf8')
    const again = await ctl(['vault', 'init', 'lab', '--yes'])
    expect(again.exitCode).toBe(2)
    expect(again.stderr).toMatch(/Vault is already initialized \(on h1, h2, h3\); nothing was changed/)
    expect(readFileSync(keysFile, 'utf8')).toBe(before)
  })

  it('after a restart of the Vault nodes, `ctl vault unseal lab` with the threshold of shares unseals all three', async () => {
    const restart = await runCtl(['lab', 'break', 'vault-sealed', '--yes'])
    expect(restart.exitCode, output(restart)).toBe(0)
    for (const addr of addrs) {
      expect(await sealStatus(addr)).toMatchObject({initialized: true, sealed: true, t: 3, n: 5})
      expect(await health(addr)).toBe(503)
    }
    const sealedStatus = await ctl(['vault', 'status', 'lab'])
    expect(sealedStatus.exitCode).toBe(1)
    expect(sealedStatus.stdout).toMatch(/h1 is sealed; h2 is sealed; h3 is sealed/)

    // No terminal and no keys: refused before anything is sent.
    const noKeys = await ctl(['vault', 'unseal', 'lab'])
    expect(noKeys.exitCode).toBe(2)
    expect(noKeys.stderr).toMatch(/no terminal to ask/)

    // Three shares (the threshold), one per line on stdin, as a script would pass them.
    const keys = JSON.parse(readFileSync(keysFile, 'utf8'))
    const unseal = await ctl(['vault', 'unseal', 'lab', '--keys-file', '-'], {input: `${keys.unseal_keys_b64.slice(1, 4).join('\n')}\n`})
    expect(unseal.exitCode, output(unseal)).toBe(0)
    expect(unseal.stdout).toMatch(/Cluster OK: h\d active/)
    for (const addr of addrs) expect((await sealStatus(addr)).sealed).toBe(false)
    expect((await Promise.all(addrs.map(health))).sort()).toEqual([200, 429, 429])

    const again = await ctl(['vault', 'unseal', 'lab', '--keys-file', keysFile, '--json'])
    expect(again.exitCode, output(again)).toBe(0)
    expect(json(again).plan).toMatchObject({unseal: [], join: [], skip: ['h1', 'h2', 'h3']})
  })

  it('no key or root token in any command output or in the audit log', () => {
    for (const run of runs) expectNoSecret(output(run), 'command output')
    const audit = readFileSync(auditLog, 'utf8')
    expectNoSecret(audit, 'the audit log')
    const entries = audit
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(entries.filter((e) => e.command.startsWith('vault:init lab --yes')).map((e) => e.outcome)).toEqual(['ok', 'refused'])
    expect(entries.some((e) => e.command.startsWith('vault:unseal lab --keys-file -') && e.outcome === 'ok')).toBe(true)
  })
})
