import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Config, Errors} from '@oclif/core'
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest'
import {CtlCommand} from '../../../src/lib/command.js'
import {CtlError, ExitCode} from '../../../src/lib/errors.js'
import {clearSecrets, registerSecret} from '../../../src/lib/redact.js'

// CtlCommand.catch: how every command turns a failure into output, an exit code and an audit line.
// The commands below run in-process through oclif, as the CLI runs them.

const projectRoot = join(import.meta.dirname, '..', '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'ctl-base-'))
const auditLog = join(dir, 'audit.log')
let config: Config

class Refuses extends CtlCommand {
  static override id = 'test:refuses'
  async run(): Promise<void> {
    await this.parse(Refuses)
    this.auditContext = {env: 'prod'}
    throw new CtlError('Deploy refused: the lock is held', {
      exitCode: ExitCode.cannotRun,
      code: 'deploy.locked',
      host: 'm1',
      step: 'take deploy lock',
      hint: 'Wait for it.',
    })
  }
}

class Crashes extends CtlCommand {
  static override id = 'test:crashes'
  async run(): Promise<void> {
    await this.parse(Crashes)
    this.auditContext = {env: 'prod'}
    throw new TypeError('cannot read properties of undefined (password hunter2secret)')
  }
}

class Succeeds extends CtlCommand {
  static override id = 'test:succeeds'
  async run(): Promise<{ok: boolean}> {
    await this.parse(Succeeds)
    this.auditContext = {env: 'prod', hosts: ['m1']}
    return {ok: true}
  }
}

interface Outcome {
  exit: number
  stdout: string
  stderr: string
}

async function runCommand(command: {run(argv: string[], config: Config): Promise<unknown>}, argv: string[]): Promise<Outcome> {
  let stdout = ''
  let stderr = ''
  // oclif writes through console.log / console.error.
  const out = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void (stdout += `${parts.join(' ')}\n`))
  const err = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void (stderr += `${parts.join(' ')}\n`))
  let exit = 0
  try {
    await command.run(argv, config)
  } catch (error) {
    if (!(error instanceof Errors.ExitError)) throw error
    exit = error.oclif.exit ?? 1
  } finally {
    out.mockRestore()
    err.mockRestore()
  }
  return {exit, stdout, stderr}
}

function auditLines(): Array<Record<string, unknown>> {
  return readFileSync(auditLog, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

beforeAll(async () => {
  process.env.CTL_AUDIT_LOG = auditLog
  config = await Config.load(projectRoot)
})

afterEach(() => {
  clearSecrets()
  rmSync(auditLog, {force: true})
})

afterAll(() => {
  delete process.env.CTL_AUDIT_LOG
  rmSync(dir, {recursive: true, force: true})
})

describe('CtlCommand.catch', () => {
  it('prints a refusal with where it happened and the hint, exits 2, and audits it as refused', async () => {
    const result = await runCommand(Refuses, [])
    expect(result.exit).toBe(2)
    expect(result.stderr).toContain('Error: Deploy refused: the lock is held (host m1, step take deploy lock)')
    expect(result.stderr).toContain('Hint: Wait for it.')
    expect(result.stdout).toBe('')
    const [line] = auditLines()
    expect(line).toMatchObject({
      command: 'test:refuses',
      env: 'prod',
      outcome: 'refused',
      detail: {error: 'Deploy refused: the lock is held', host: 'm1', step: 'take deploy lock'},
    })
  })

  it('under --json prints the error object on stdout instead', async () => {
    const result = await runCommand(Refuses, ['--json'])
    expect(result.exit).toBe(2)
    expect(JSON.parse(result.stdout)).toEqual({
      error: 'deploy.locked',
      message: 'Deploy refused: the lock is held',
      hint: 'Wait for it.',
      host: 'm1',
      step: 'take deploy lock',
      exitCode: 2,
    })
  })

  it('turns an unexpected error into exit 1 and a failed audit line, secrets redacted', async () => {
    registerSecret('hunter2secret')
    const result = await runCommand(Crashes, [])
    expect(result.exit).toBe(1)
    expect(result.stderr).toContain('cannot read properties of undefined')
    expect(result.stderr).not.toContain('hunter2secret')
    const [line] = auditLines()
    expect(line!.outcome).toBe('failed')
    expect(JSON.stringify(line)).not.toContain('hunter2secret')
  })

  it('treats an oclif usage error (unknown flag) as could-not-run, exit 2', async () => {
    const result = await runCommand(Succeeds, ['--no-such-flag'])
    expect(result.exit).toBe(2)
    expect(result.stderr).toContain('--no-such-flag')
  })

  it('audits a command that succeeded once, with outcome ok', async () => {
    const result = await runCommand(Succeeds, ['--json'])
    expect(result.exit).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({ok: true})
    const lines = auditLines()
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({command: 'test:succeeds --json', env: 'prod', hosts: ['m1'], outcome: 'ok'})
  })
})
