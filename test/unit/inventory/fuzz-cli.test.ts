import {execFile, execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {formatProblems, parseInventory} from '../../../src/inventory/load.js'
import {mutate, prng, seedInventories, seedOf} from './fuzz-helpers.js'

/**
 * The CLI side of the inventory fuzz (needs `npm run build`): mutated files through
 * `ctl inventory validate`, and invalid inventories given to commands that would connect, with a
 * TCP listener standing in for sshd that counts every connection attempt.
 */
const root = join(import.meta.dirname, '../../..')
const bin = join(root, 'bin/run.js')
let dir: string
let listener: Server
let port: number
let connections = 0

/** Runs ctl without blocking this process, so the listener keeps accepting (and counting) meanwhile. */
function ctl(...args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  const env = {...process.env, CTL_AUDIT_LOG: join(dir, 'audit.log'), CTL_STATE_DIR: join(dir, 'state'), NO_COLOR: '1'}
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], {cwd: dir, encoding: 'utf8', timeout: 60_000, env}, (error, stdout, stderr) => {
      resolve({code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr})
    })
  })
}

const STACK_TRACE = /\n\s+at .+:\d+:\d+\)?$/m

/** An inventory whose one node is the counting listener, reachable on every count. */
const target = () => `name: fuzz
ssh:
  key: ./id_ed25519
  knownHosts: ./known_hosts
  port: ${port}
  connectTimeoutMs: 3000
nodes:
  - name: a
    address: 127.0.0.1
    role: manager
`

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/commands/inventory/validate.js'))) throw new Error('Build first: npm run build (this test runs ./bin/run.js)')
  dir = mkdtempSync(join(tmpdir(), 'ctl-fuzz-cli-'))
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')])
  writeFileSync(join(dir, 'known_hosts'), '')
  listener = createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  port = (listener.address() as {port: number}).port
})

afterAll(async () => {
  await new Promise((resolve) => listener?.close(resolve))
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('ctl with mutated inventories', {timeout: 120_000}, () => {
  it('the counting listener sees a command that does connect (control)', async () => {
    writeFileSync(join(dir, 'valid.yml'), target())
    const before = connections
    const r = await ctl('exec', join(dir, 'valid.yml'), '--', 'true')
    expect(r.code).not.toBe(0)
    expect(connections).toBeGreaterThan(before)
  })

  it("inventory validate: exit 1 and the loader's file:line:column lines, no stack trace", async () => {
    const random = prng(20261201)
    const seeds = seedInventories()
    let checked = 0
    for (let n = 0; checked < 6 && n < 200; n++) {
      const {file, text} = seeds[n % seeds.length]!
      const mutation = mutate(seedOf(text), random)
      const path = join(dir, `m${n}.yml`)
      const expected = parseInventory(mutation.text, path)
      if (expected.inventory) continue
      writeFileSync(path, mutation.text)
      const r = await ctl('inventory', 'validate', path)
      const where = `mutation ${n} of ${file} (${mutation.kind})`
      expect(r.code, `${where}\n${r.stderr}`).toBe(1)
      expect(r.stderr, where).not.toMatch(STACK_TRACE)
      expect(r.stderr.trim(), where).toBe(formatProblems(expected.problems))
      for (const line of r.stderr.trim().split('\n')) expect(line, where).toMatch(new RegExp(`^${path.replace(/[.]/g, '\\.')}:\\d+:\\d+: `))
      checked++
    }
    expect(checked).toBe(6)
  })

  it.each([
    [
      'a nested typo (ssh.knownhosts)',
      (t: string) => t.replace('  knownHosts:', '  knownhosts:'),
      'ssh.knownhosts: unknown key "knownhosts" (did you mean knownHosts?)',
    ],
    [
      'a per-node ssh typo',
      (t: string) => t.replace('    role: manager\n', '    role: manager\n    ssh: {prot: 22}\n'),
      'nodes[0].ssh.prot: unknown key "prot" (did you mean port?)',
    ],
    ['shell syntax in a node name', (t: string) => t.replace('name: a\n', 'name: "a; touch /tmp/x"\n'), 'nodes[0].name:'],
    ['.. in the deploy lock dir', (t: string) => `${t}deployLock: {dir: /var/lib/../../tmp}\n`, 'deployLock.dir:'],
  ])('exec and node ls refuse %s before any connection', async (_name, change, message) => {
    const file = join(dir, 'bad.yml')
    writeFileSync(file, change(target()))
    const before = connections
    for (const args of [
      ['exec', file, '--', 'true'],
      ['node', 'ls', file],
    ]) {
      const r = await ctl(...args)
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(1)
      expect(r.stderr).toContain(`Invalid inventory ${file}`)
      expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: `))
      expect(r.stderr).toContain(message)
      expect(r.stderr).not.toMatch(STACK_TRACE)
    }
    expect(connections).toBe(before)
  })

  it('refuses an env name of ".." taken from the file name ...yml', async () => {
    writeFileSync(join(dir, '...yml'), target())
    const before = connections
    for (const args of [
      ['inventory', 'validate', join(dir, '...yml')],
      ['exec', join(dir, '...yml'), '--', 'true'],
    ]) {
      const r = await ctl(...args)
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toContain('".." is not a usable environment name')
      expect(r.stderr).not.toMatch(STACK_TRACE)
    }
    expect(connections).toBe(before)
  })

  it('inventory validate warns about Vault over plain http off the lab, and keeps exit 0', async () => {
    const file = join(dir, 'plain.yml')
    writeFileSync(file, target().replace('127.0.0.1', '10.9.8.7') + 'vault:\n  members:\n    - {node: a, scheme: http}\n')
    const text = await ctl('inventory', 'validate', file)
    expect(text.code, text.stderr).toBe(0)
    expect(text.stderr.trim()).toMatch(
      new RegExp(`^${file.replace(/[.]/g, '\\.')}:13:25: warning: vault.members\\[0\\].scheme: Vault on a \\(10.9.8.7\\) is reached over plain http`),
    )
    const json = await ctl('inventory', 'validate', file, '--json')
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({valid: true, warnings: [{line: 13, column: 25, field: 'vault.members[0].scheme'}]})
  })

  it('refuses a --run-id that is a path', async () => {
    writeFileSync(join(dir, 'valid.yml'), target())
    const r = await ctl('runbook', 'galera-recover', join(dir, 'valid.yml'), '--resume', '--run-id', '../../etc/passwd', '--yes')
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain('"../../etc/passwd" is not a run id')
    expect(r.stderr).not.toMatch(STACK_TRACE)
  })
})
