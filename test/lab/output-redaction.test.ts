import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, projectRoot, runCtl} from '../support/cli.js'
import {startLoopbackSshd, type LoopbackSshd} from '../support/sshd.js'

// Remote output that echoes a secret the inventory names never reaches ctl's output: not in the
// --json result, not in human output, not in the audit log, whether the command succeeds or fails.
describe('secrets in remote output are redacted in every output of ctl exec', () => {
  let sshd: LoopbackSshd
  let work: string
  let auditLog: string
  let secretFile: string
  let inventory: string
  const secret = `pw-${Math.random().toString(36).slice(2)}-redact-me`

  beforeAll(async () => {
    sshd = await startLoopbackSshd()
    work = mkdtempSync(join(tmpdir(), 'ctl-redaction-'))
    auditLog = join(work, 'audit.log')
    secretFile = join(work, 'galera-password')
    writeFileSync(secretFile, `${secret}\n`, {mode: 0o600})
    inventory = join(work, 'loop.yml')
    writeFileSync(
      inventory,
      [
        'name: loop',
        `ssh: {user: root, key: ${sshd.clientKey}, knownHosts: ${sshd.knownHosts}, connectTimeoutMs: 3000}`,
        'nodes:',
        `  - {name: one, address: 127.0.0.1, ssh: {port: ${sshd.port}}, role: manager}`,
        'databases:',
        '  galera:',
        `    password: file:${secretFile}`,
        '    members: [{node: one, control: {kind: systemd, unit: mariadb}}]',
        '',
      ].join('\n'),
    )
  })
  afterAll(() => {
    sshd?.stop()
    rmSync(work, {recursive: true, force: true})
  })

  it('a command printing the password: --json result and human output', async () => {
    const run = await runCtl(['exec', inventory, '--json', '--', 'cat', secretFile], {env: {CTL_AUDIT_LOG: auditLog}})
    expect(run.exitCode).toBe(0)
    expect(json(run).results[0]).toMatchObject({node: 'one', ok: true, stdout: '***'})
    expect(run.stdout + run.stderr).not.toContain(secret)

    const human = await runCtl(['exec', inventory, '--', 'cat', secretFile], {env: {CTL_AUDIT_LOG: auditLog}})
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toContain('***')
    expect(human.stdout + human.stderr).not.toContain(secret)
  })

  it('a failing command printing the password on stderr: the failure in --json and as text', async () => {
    const failing = ['sh', '-c', 'echo "login with $(cat "$0")" >&2; exit 3', secretFile]
    const run = await runCtl(['exec', inventory, '--json', '--', ...failing], {env: {CTL_AUDIT_LOG: auditLog}})
    expect(run.exitCode).toBe(1)
    expect(json(run).results[0]).toMatchObject({ok: false, code: 3, stderr: 'login with ***'})
    expect(run.stdout + run.stderr).not.toContain(secret)

    const human = await runCtl(['exec', inventory, '--', ...failing], {env: {CTL_AUDIT_LOG: auditLog}})
    expect(human.exitCode).toBe(1)
    expect(human.stderr).toContain('login with ***')
    expect(human.stdout + human.stderr).not.toContain(secret)
    expect(readFileSync(auditLog, 'utf8')).not.toContain(secret)
  })

  it('on the lab: the Galera password read back from a lab host', async () => {
    const password = readFileSync(join(projectRoot, '.lab', 'galera-password'), 'utf8').trim()
    const run = await runCtl(['exec', 'lab', '--node', 'h3', '--json', '--', 'cat', join(projectRoot, '.lab', 'galera-password')], {
      env: {CTL_AUDIT_LOG: auditLog},
    })
    expect(run.exitCode).toBe(0)
    expect(json(run).results[0]).toMatchObject({node: 'h3', ok: true, stdout: '***'})
    expect(run.stdout + run.stderr).not.toContain(password)
  })
})
