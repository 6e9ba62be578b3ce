import {Errors, Flags} from '@oclif/core'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest'
import VaultInit from '../../../src/commands/vault/init.js'
import {resolveSecret} from '../../../src/inventory/secrets.js'
import {CtlCommand} from '../../../src/lib/command.js'
import {CtlError} from '../../../src/lib/errors.js'
import {note, runTasks, setProgressQuiet} from '../../../src/lib/progress.js'
import {clearSecrets} from '../../../src/lib/redact.js'
import {RunbookCommand} from '../../../src/runbooks/command.js'
import type {Runbook} from '../../../src/runbooks/types.js'
import type {SshPool} from '../../../src/ssh/pool.js'
import {startDoubleServer, type RunningDouble} from '../../../packages/lab/src/vault-double/server.js'

const projectRoot = join(import.meta.dirname, '..', '..', '..')
const SECRET = 'Zq8-not-a-real-password-41'
const dir = mkdtempSync(join(tmpdir(), 'ctl-command-test-'))
process.env.CTL_AUDIT_LOG = join(dir, 'audit.log')
process.env.CTL_STATE_DIR = join(dir, 'state')

/** A command that resolves a secret, then puts it in its output, its result or its error. */
class Leaky extends CtlCommand {
  static override id = 'leaky'
  static override flags = {fail: Flags.boolean({default: false})}
  async run(): Promise<{remote: {stdout: string}; lines: string[]; at: Date}> {
    const {flags} = await this.parse(Leaky)
    resolveSecret({file: join(dir, 'x.yml')}, 'env:CTL_TEST_SECRET')
    this.log(`stdout says ${SECRET}`)
    this.logToStderr('stderr says %s', SECRET)
    if (flags.fail) throw new CtlError(`step failed: mysql: access denied for ${SECRET}`, {host: 'h1', step: 'dump', hint: `try again with ${SECRET}`})
    return {remote: {stdout: `password is ${SECRET}\n`}, lines: [SECRET], at: new Date(0)}
  }
}

/** A command that only loads an inventory naming the secret and prints what a remote host "echoed". */
class Echo extends CtlCommand {
  static override id = 'echo'
  static override args = {}
  static override strict = false
  async run(): Promise<{stdout: string}> {
    const {argv} = await this.parse(Echo)
    this.loadEnv(String(argv[0]))
    const stdout = `${SECRET}\n`
    this.log(stdout)
    return {stdout}
  }
}

/** A backup whose dump fails, and whose error carries the remote output (that echoes the password). */
const failingDump: Runbook<Record<string, never>> = {
  name: 'failing-dump',
  summary: 's',
  description: 'd',
  needs: 'databases.galera',
  // As the real ones do: the runbook resolves the password it needs (and so registers it).
  setup: ({loaded}) => (resolveSecret(loaded, 'env:CTL_TEST_SECRET'), {}),
  steps: [
    {
      id: 'dump',
      title: 'Dump',
      risk: 'change',
      description: 'dumps',
      plan: () => ({summary: 'dump', commands: [{node: 'a', command: 'dump'}]}),
      act: async (ctx) => {
        const r = await ctx.run('a', ['dump'])
        throw new CtlError(`dump failed (exit ${r.code}): ${r.stderr}`, {host: 'a', hint: r.stdout})
      },
    },
  ],
}

/** `ctl runbook failing-dump <inventory>`, its remote host answering with the password in its output. */
class FailingDump extends RunbookCommand {
  static override id = 'runbook failing-dump'
  static override strict = false
  async run() {
    const {argv} = await this.parse(FailingDump)
    return this.execute(failingDump, String(argv[0]), {'dry-run': false, yes: true, resume: false}, {})
  }

  protected override sshPool(): SshPool {
    const answer = {
      node: 'a',
      command: 'dump',
      code: 2,
      stdout: `connecting with password ${SECRET}`,
      stderr: `access denied for ctl@localhost, tried ${SECRET}`,
      durationMs: 1,
    }
    // The run lock's scripts (take, heartbeat, release) succeed; the runbook's own command fails.
    const lockAnswer = {...answer, command: 'lock', code: 0, stdout: '', stderr: ''}
    return {run: async (_node: unknown, command: unknown) => (Array.isArray(command) ? answer : lockAnswer)} as unknown as SshPool
  }
}

interface Captured {
  stdout: string
  stderr: string
  exitCode?: number
}

async function capture(run: () => Promise<unknown>): Promise<Captured> {
  const out: string[] = []
  const err: string[] = []
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void out.push(args.join(' ')))
  const error = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void err.push(args.join(' ')))
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0)
  const writeErr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0)
  let exitCode: number | undefined
  try {
    await run()
  } catch (e) {
    if (!(e instanceof Errors.ExitError)) throw e
    exitCode = e.oclif.exit
  } finally {
    log.mockRestore()
    error.mockRestore()
    write.mockRestore()
    writeErr.mockRestore()
  }
  return {stdout: out.join('\n'), stderr: err.join('\n'), exitCode}
}

describe('CtlCommand redacts everything it prints', () => {
  beforeAll(() => {
    process.env.CTL_TEST_SECRET = SECRET
  })
  afterEach(() => {
    clearSecrets()
    setProgressQuiet(false)
    process.exitCode = undefined
  })
  afterAll(() => {
    delete process.env.CTL_TEST_SECRET
  })

  it('the --json result of a command that resolved the secret', async () => {
    const {stdout} = await capture(() => Leaky.run(['--json'], projectRoot))
    expect(stdout).not.toContain(SECRET)
    expect(JSON.parse(stdout)).toEqual({remote: {stdout: 'password is ***\n'}, lines: ['***'], at: '1970-01-01T00:00:00.000Z'})
  })

  it('human output on stdout and stderr', async () => {
    const {stdout, stderr} = await capture(() => Leaky.run([], projectRoot))
    expect(stdout).toBe('stdout says ***')
    expect(stderr).toBe('stderr says ***')
  })

  it('the error: message and hint under --json, and as text', async () => {
    const json = await capture(() => Leaky.run(['--json', '--fail'], projectRoot))
    expect(json.exitCode).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({message: 'step failed: mysql: access denied for ***', hint: 'try again with ***', host: 'h1', step: 'dump'})
    const text = await capture(() => Leaky.run(['--fail'], projectRoot))
    expect(text.exitCode).toBe(1)
    expect(text.stderr).toContain('Error: step failed: mysql: access denied for *** (host h1, step dump)\nHint: try again with ***')
    expect(text.stderr + text.stdout).not.toContain(SECRET)
  })

  it('a secret the inventory names, although the command never resolved it (ctl exec echoing a password)', async () => {
    const inventory = join(dir, 'echo.yml')
    writeFileSync(
      inventory,
      `name: echo\nnodes:\n  - {name: a, address: 10.0.0.1, role: manager}\ndatabases:\n  galera:\n    password: env:CTL_TEST_SECRET\n    members: [{node: a, control: {kind: systemd, unit: mariadb}}]\n`,
    )
    const json = await capture(() => Echo.run([inventory, '--json'], projectRoot))
    expect(JSON.parse(json.stdout)).toEqual({stdout: '***\n'})
    const text = await capture(() => Echo.run([inventory], projectRoot))
    expect(text.stdout).not.toContain(SECRET)
  })

  it('a runbook failing with the remote output (that echoes the password) in its error', async () => {
    const inventory = join(dir, 'runbook.yml')
    writeFileSync(
      inventory,
      `name: rb\nnodes:\n  - {name: a, address: 10.0.0.1, role: manager}\ndatabases:\n  galera:\n    password: env:CTL_TEST_SECRET\n    members: [{node: a, control: {kind: systemd, unit: mariadb}}]\n`,
    )
    const json = await capture(() => FailingDump.run([inventory, '--json'], projectRoot))
    expect(process.exitCode).toBe(1)
    const result = JSON.parse(json.stdout)
    expect(result.outcome).toBe('failed')
    expect(result.error).toMatchObject({message: 'dump failed (exit 2): access denied for ctl@localhost, tried ***', step: 'dump'})
    expect(result.error.hint).toContain('connecting with password ***')
    expect(json.stdout + json.stderr).not.toContain(SECRET)
    const text = await capture(() => FailingDump.run([inventory], projectRoot))
    expect(text.stderr).toContain('Error: dump failed (exit 2): access denied for ctl@localhost, tried ***')
    expect(text.stdout + text.stderr).not.toContain(SECRET)
  })

  it('progress: task titles, failures, status and notes', async () => {
    process.env.CTL_TEST_SECRET = SECRET
    resolveSecret({file: join(dir, 'x.yml')}, 'env:CTL_TEST_SECRET')
    const {stdout, stderr} = await capture(async () => {
      await runTasks([{key: 'h1', title: `h1 ${SECRET}`}], async (_item, report) => {
        report.status(`status ${SECRET}`)
        throw new CtlError(`failed with ${SECRET}`)
      })
      note(`note ${SECRET}`)
    })
    expect(stdout + stderr).toContain('failed with ***')
    expect(stdout + stderr).toContain('note ***')
    expect(stdout + stderr).not.toContain(SECRET)
  })
})

describe('vault init --show is the one deliberate exception', () => {
  let vault: RunningDouble | undefined
  afterEach(async () => {
    await vault?.close()
    vault = undefined
    clearSecrets()
    process.exitCode = undefined
  })

  /** A fresh one-node Vault (the lab's double, in-process on 127.0.0.1) and an inventory for it. */
  async function freshVault(name: string): Promise<{inventory: string; keysFile: string}> {
    const caseDir = mkdtempSync(join(dir, `${name}-`))
    vault = await startDoubleServer({nodeId: 'v1', listenHost: '127.0.0.1', port: 0, stateDir: caseDir, tickMs: 50})
    const port = new URL(vault.apiAddr).port
    const inventory = join(caseDir, 'vault.yml')
    const keysFile = join(caseDir, 'keys.json')
    writeFileSync(
      inventory,
      `name: v\nnodes:\n  - {name: v1, address: 127.0.0.1, role: manager}\nvault:\n  members: [{node: v1, port: ${port}, scheme: http}]\n  keyShares: 1\n  keyThreshold: 1\n  keysFile: ${keysFile}\n`,
    )
    return {inventory, keysFile}
  }

  function keysOf(keysFile: string): {unseal_keys_b64: string[]; root_token: string} {
    return JSON.parse(readFileSync(keysFile, 'utf8'))
  }

  it.each([
    ['--json', ['--json']],
    ['human output', []],
  ])('without --show (%s): no key and no root token is printed', async (_name, extra) => {
    const {inventory, keysFile} = await freshVault('hidden')
    const {stdout, stderr, exitCode} = await capture(() => VaultInit.run([inventory, '--yes', ...extra], projectRoot))
    expect(exitCode).toBeUndefined()
    const keys = keysOf(keysFile)
    for (const secret of [keys.root_token, ...keys.unseal_keys_b64]) expect(stdout + stderr).not.toContain(secret)
    if (extra.includes('--json')) expect(JSON.parse(stdout).keys).toBeUndefined()
  })

  it('with --show --json: the keys are printed as they are, the rest stays redacted', async () => {
    const {inventory, keysFile} = await freshVault('shown-json')
    const {stdout, exitCode} = await capture(() => VaultInit.run([inventory, '--yes', '--show', '--json'], projectRoot))
    expect(exitCode).toBeUndefined()
    const keys = keysOf(keysFile)
    const result = JSON.parse(stdout)
    expect(result.keys).toEqual({unsealKeysB64: keys.unseal_keys_b64, rootToken: keys.root_token})
    const {keys: _shown, ...rest} = result
    expect(JSON.stringify(rest)).not.toContain(keys.root_token)
  })

  it('with --show in human output: the keys are printed once', async () => {
    const {inventory, keysFile} = await freshVault('shown-text')
    const {stdout} = await capture(() => VaultInit.run([inventory, '--yes', '--show'], projectRoot))
    const keys = keysOf(keysFile)
    expect(stdout).toContain(`Root token: ${keys.root_token}`)
    expect(stdout).toContain(`1: ${keys.unseal_keys_b64[0]}`)
  })
})

afterAll(() => rmSync(dir, {recursive: true, force: true}))
