import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {startLoopbackSshd, type LoopbackSshd} from '../support/sshd.js'

// `ctl exec` and `ctl ssh trust` against a real OpenSSH server on loopback, with a key pair and
// known_hosts made here.
describe('ctl exec over real SSH', () => {
  let sshd: LoopbackSshd
  let work: string
  let auditLog: string

  const inventory = (knownHosts: string, port: number) => {
    const file = join(work, `inv-${Math.random().toString(36).slice(2)}.yml`)
    writeFileSync(
      file,
      `name: loop\nssh:\n  user: root\n  key: ${sshd.clientKey}\n  knownHosts: ${knownHosts}\n  connectTimeoutMs: 3000\nnodes:\n  - {name: one, address: 127.0.0.1, ssh: {port: ${port}}, role: manager}\n  - {name: two, address: 127.0.0.1, ssh: {port: ${port}}}\n`,
    )
    return file
  }
  const env = () => ({CTL_AUDIT_LOG: auditLog})

  beforeAll(async () => {
    sshd = await startLoopbackSshd()
    work = mkdtempSync(join(tmpdir(), 'ctl-exec-'))
    auditLog = join(work, 'audit.log')
  })
  afterAll(() => sshd?.stop())

  it('runs a command on every selected node and reports per host', async () => {
    const run = await runCtl(['exec', inventory(sshd.knownHosts, sshd.port), '--json', '--', 'sh', '-c', 'echo hello from $(hostname)'], {env: env()})
    expect(run.exitCode).toBe(0)
    const result = json(run)
    expect(result.results.map((r: any) => [r.node, r.ok, r.code])).toEqual([
      ['one', true, 0],
      ['two', true, 0],
    ])
    expect(result.results[0].stdout).toMatch(/^hello from /)
  })

  it('selects by node and role, and reports a failing exit code as a failure', async () => {
    const run = await runCtl(['exec', inventory(sshd.knownHosts, sshd.port), '--role', 'manager', '--json', '--', 'sh', '-c', 'echo oops >&2; exit 3'], {
      env: env(),
    })
    expect(run.exitCode).toBe(1)
    const result = json(run)
    expect(result.results).toHaveLength(1)
    expect(result.results[0]).toMatchObject({node: 'one', ok: false, code: 3, stderr: 'oops'})
  })

  it('passes hostile arguments as data: nothing extra runs', async () => {
    const marker = join(work, 'pwned')
    const hostile = [`x; touch ${marker}`, `$(touch ${marker})`, `\`touch ${marker}\``, `'; touch ${marker}; '`, `a\ntouch ${marker}`]
    for (const value of hostile) {
      const run = await runCtl(['exec', inventory(sshd.knownHosts, sshd.port), '--node', 'one', '--json', '--', 'printf', '%s', value], {env: env()})
      expect(run.exitCode).toBe(0)
      expect(json(run).results[0].stdout).toBe(value)
    }
    expect(existsSync(marker)).toBe(false)
  })

  it('refuses a host whose key is not in known_hosts, and runs nothing there', async () => {
    const empty = join(work, 'empty_known_hosts')
    writeFileSync(empty, '')
    const marker = join(work, 'ran-on-unknown-host')
    const run = await runCtl(['exec', inventory(empty, sshd.port), '--node', 'one', '--', 'touch', marker], {env: env()})
    expect(run.exitCode).toBe(1)
    expect(run.stdout + run.stderr).toMatch(/Unknown host key for one \(\[127\.0\.0\.1\]:\d+\): SHA256:/)
    expect(run.stdout + run.stderr).toMatch(/ctl ssh trust/)
    expect(existsSync(marker)).toBe(false)
  })

  it('refuses a host whose key changed', async () => {
    const other = join(work, 'other_known_hosts')
    // A different ed25519 key recorded for the same host and port.
    const fake = readFileSync(sshd.clientKey + '.pub', 'utf8')
      .trim()
      .split(/\s+/)
    writeFileSync(other, `[127.0.0.1]:${sshd.port} ${fake[0]} ${fake[1]}\n`)
    const run = await runCtl(['exec', inventory(other, sshd.port), '--node', 'one', '--json', '--', 'true'], {env: env()})
    expect(run.exitCode).toBe(1)
    expect(json(run).results[0].error).toMatch(/HOST KEY CHANGED/)
  })

  it('reports an unreachable host with a hint and goes on with the others', async () => {
    const file = join(work, 'mixed.yml')
    writeFileSync(
      file,
      `name: mixed\nssh: {user: root, key: ${sshd.clientKey}, knownHosts: ${sshd.knownHosts}, connectTimeoutMs: 2000}\nnodes:\n  - {name: up, address: 127.0.0.1, ssh: {port: ${sshd.port}}}\n  - {name: down, address: 127.0.0.1, ssh: {port: 1}}\n`,
    )
    const run = await runCtl(['exec', file, '--json', '--', 'true'], {env: env()})
    expect(run.exitCode).toBe(1)
    const byNode = Object.fromEntries(json(run).results.map((r: any) => [r.node, r]))
    expect(byNode.up.ok).toBe(true)
    expect(byNode.down).toMatchObject({ok: false})
    expect(byNode.down.error).toMatch(/Cannot connect to down/)
    expect(byNode.down.hint).toMatch(/sshd/)
  })

  it('ssh trust shows the fingerprint and records it only when confirmed', async () => {
    const fresh = join(work, 'trusted_known_hosts')
    const file = inventory(fresh, sshd.port)
    const refused = await runCtl(['ssh', 'trust', file, '--node', 'one'], {env: env()})
    expect(refused.exitCode).toBe(2)
    expect(refused.stdout).toMatch(/SHA256:\S+\s+unknown/)
    expect(existsSync(fresh)).toBe(false)
    const trusted = await runCtl(['ssh', 'trust', file, '--node', 'one', '--yes'], {env: env()})
    expect(trusted.exitCode).toBe(0)
    expect(readFileSync(fresh, 'utf8')).toContain(sshd.knownHostsLine.split(' ').slice(1).join(' '))
    const run = await runCtl(['exec', file, '--node', 'one', '--', 'true'], {env: env()})
    expect(run.exitCode).toBe(0)
  })

  it('writes each run to the audit log', () => {
    const lines = readFileSync(auditLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const execs = lines.filter((l) => l.command.startsWith('exec'))
    expect(execs.length).toBeGreaterThan(3)
    expect(execs[0]).toMatchObject({env: expect.any(String), hosts: ['one', 'two'], outcome: 'ok', operator: expect.any(String)})
    expect(execs.some((l) => l.outcome === 'failed')).toBe(true)
  })
})
