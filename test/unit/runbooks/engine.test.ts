import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runRunbook} from '../../../src/runbooks/engine.js'
import {findRunToResume, readJournal} from '../../../src/runbooks/journal.js'
import type {Runbook} from '../../../src/runbooks/types.js'
import {clearSecrets, registerSecret} from '../../../src/lib/redact.js'
import {CtlError} from '../../../src/lib/errors.js'
import {renderCommand, type RemoteCommand} from '../../../src/lib/shell.js'
import type {LoadedInventory} from '../../../src/inventory/load.js'
import type {RemoteResult, RemoteRunner} from '../../../src/ssh/pool.js'
import type {InventoryNode} from '../../../src/inventory/schema/index.js'

const loaded = {
  env: 'test',
  file: '/tmp/test.yml',
  inventory: {
    nodes: [
      {name: 'n1', address: '10.0.0.1'},
      {name: 'n2', address: '10.0.0.2'},
    ],
  },
} as unknown as LoadedInventory

/** Records every command; answers from a table of outputs (default: exit 0, no output). */
class FakeRunner implements RemoteRunner {
  commands: string[] = []
  constructor(private answer: (node: string, text: string) => Partial<RemoteResult> = () => ({})) {}
  async run(node: InventoryNode, command: RemoteCommand): Promise<RemoteResult> {
    const text = renderCommand(command)
    this.commands.push(`${node.name}: ${text}`)
    return {node: node.name, command: text, code: 0, stdout: '', stderr: '', durationMs: 1, ...this.answer(node.name, text)}
  }
}

interface State {
  facts?: string
  changed: string[]
  rechecked: number
}

/** A small runbook: read facts, change something, a data-risk step, and a final check. */
function sample(opts: {failOnce?: {step: string}; earlyFinish?: boolean} = {}): Runbook<State, {label: string}> {
  let failed = false
  return {
    name: 'sample',
    summary: 's',
    description: 'd',
    needs: 'nothing',
    setup: () => ({changed: [], rechecked: 0}),
    steps: [
      {
        id: 'facts',
        title: 'Gather facts',
        risk: 'read',
        description: 'reads',
        plan: () => ({summary: 'read uptime', commands: [{node: 'n1', command: 'uptime'}]}),
        act: async (ctx) => {
          const r = await ctx.run('n1', ['uptime'])
          ctx.state.facts = r.stdout
          ctx.report([`facts: ${r.stdout}`])
          if (opts.earlyFinish) ctx.finishEarly('all healthy')
        },
        recheck: async (ctx) => {
          ctx.state.rechecked++
          await ctx.run('n1', ['uptime'])
        },
      },
      {
        id: 'change',
        title: 'Change',
        risk: 'change',
        description: 'changes',
        plan: (s) => ({summary: `touch with facts ${s.facts}`, commands: [{node: 'n2', command: 'touch /x'}]}),
        act: async (ctx) => {
          await ctx.run('n2', ['touch', '/x'])
          ctx.state.changed.push('n2')
          if (opts.failOnce?.step === 'change' && !failed) {
            failed = true
            throw new Error('boom on n2')
          }
        },
      },
      {
        id: 'destroy',
        title: 'Destroy',
        risk: 'data-risk',
        description: 'destroys',
        confirmation: () => 'Really remove /y on n1?',
        plan: () => ({summary: 'rm', commands: [{node: 'n1', command: 'rm /y'}]}),
        act: async (ctx) => {
          await ctx.run('n1', ['rm', '/y'])
          if (opts.failOnce?.step === 'destroy' && !failed) {
            failed = true
            throw new Error('rm failed on n1')
          }
        },
      },
      {
        id: 'verify',
        title: 'Verify',
        risk: 'read',
        description: 'checks',
        plan: () => ({summary: 'check', commands: []}),
        verify: async (ctx) => {
          await ctx.run('n2', ['test', '-e', '/x'])
        },
      },
    ],
    summarize: (s) => ({changed: s.changed}),
  }
}

describe('runRunbook', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctl-runbook-'))
    process.env.CTL_AUDIT_LOG = join(dir, 'audit.log')
    process.env.CTL_NONINTERACTIVE = '1'
  })
  afterEach(() => {
    delete process.env.CTL_AUDIT_LOG
    delete process.env.CTL_NONINTERACTIVE
    clearSecrets()
  })

  it('runs every step in order with --yes and journals each command with its exit code and output', async () => {
    const remote = new FakeRunner((_n, text) => (text === 'uptime' ? {stdout: 'up 3 days'} : {}))
    const result = await runRunbook(sample(), {loaded, remote, options: {label: 'a'}, yes: true, journalDir: dir})
    expect(result.outcome).toBe('ok')
    expect(result.steps.map((s) => s.status)).toEqual(['done', 'done', 'done', 'done'])
    expect(remote.commands).toEqual(['n1: uptime', 'n2: touch /x', 'n1: rm /y', 'n2: test -e /x'])
    expect(result.steps[1]!.plan.summary).toBe('touch with facts up 3 days')
    expect(result.summary).toEqual({changed: ['n2']})
    const events = readJournal(result.journal)
    const commands = events.filter((e) => e.type === 'command')
    expect(commands.map((c) => c.type === 'command' && [c.step, c.node, c.command, c.code])).toEqual([
      ['facts', 'n1', 'uptime', 0],
      ['change', 'n2', 'touch /x', 0],
      ['destroy', 'n1', 'rm /y', 0],
      ['verify', 'n2', 'test -e /x', 0],
    ])
    expect(commands[0]!.type === 'command' && commands[0]!.stdout).toBe('up 3 days')
    expect(events.at(-1)).toMatchObject({type: 'end', outcome: 'ok'})
    const audit = readFileSync(join(dir, 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(audit.filter((a) => a.detail?.remote).map((a) => a.detail.remote)).toEqual(['uptime', 'touch /x', 'rm /y', 'test -e /x'])
    expect(audit.every((a) => a.command === 'runbook sample test')).toBe(true)
  })

  it('under --dry-run runs only read steps and plans the others without asking', async () => {
    const remote = new FakeRunner()
    const result = await runRunbook(sample(), {loaded, remote, options: {label: 'a'}, dryRun: true, journalDir: dir})
    expect(result.outcome).toBe('dry-run')
    expect(result.steps.map((s) => s.status)).toEqual(['done', 'planned', 'planned', 'done'])
    expect(remote.commands).toEqual(['n1: uptime', 'n2: test -e /x'])
    expect(result.steps[2]!.plan.commands).toEqual([{node: 'n1', command: 'rm /y'}])
  })

  it('stops before a data-risk step when nobody can confirm, and --resume --yes continues from it', async () => {
    const remote = new FakeRunner()
    const first = await runRunbook(sample(), {loaded, remote, options: {label: 'a'}, journalDir: dir})
    expect(first.outcome).toBe('stopped')
    expect(first.error).toMatchObject({step: 'destroy', exitCode: 2})
    expect(first.error!.hint).toContain('--resume')
    expect(first.steps.map((s) => s.status)).toEqual(['done', 'done', 'stopped', 'pending'])
    expect(remote.commands).not.toContain('n1: rm /y')

    const again = new FakeRunner()
    const second = await runRunbook(sample(), {loaded, remote: again, options: {label: 'ignored'}, yes: true, resume: true, journalDir: dir})
    expect(second.runId).toBe(first.runId)
    expect(second.outcome).toBe('ok')
    // The facts step is re-checked, the change is not repeated, the stopped step runs.
    expect(again.commands).toEqual(['n1: uptime', 'n1: rm /y', 'n2: test -e /x'])
    expect(second.summary).toEqual({changed: ['n2']})
    expect(() => findRunToResume('sample', 'test', undefined, dir)).toThrow(/nothing to resume/)
  })

  it('on --resume asks again before a failed data-risk step: no terminal and no --yes refuses with exit 2, nothing acted', async () => {
    const runbook = sample({failOnce: {step: 'destroy'}})
    const first = await runRunbook(runbook, {loaded, remote: new FakeRunner(), options: {label: 'a'}, yes: true, journalDir: dir})
    expect(first.error).toMatchObject({step: 'destroy', exitCode: 1})
    // The first run's --yes is not suggested for the next one.
    expect(first.error!.hint).not.toMatch(/--resume --yes/)
    const again = new FakeRunner()
    const second = await runRunbook(runbook, {loaded, remote: again, options: {label: 'a'}, resume: true, journalDir: dir})
    expect(second.outcome).toBe('stopped')
    expect(second.error).toMatchObject({step: 'destroy', exitCode: 2, code: 'prompt.no-terminal'})
    expect(second.error!.message).toContain('Really remove /y on n1?')
    expect(again.commands).not.toContain('n1: rm /y')
    expect(findRunToResume('sample', 'test', undefined, dir).resumeStep).toBe('destroy')
  })

  it('on --resume a change step covered by an earlier data-risk confirmation is not run without a new one (nor by a journaled yes)', async () => {
    let fail = true
    const runbook: Runbook<{moved: number}, {yes?: boolean}> = {
      name: 'consent',
      summary: 's',
      description: 'd',
      needs: 'nothing',
      setup: () => ({moved: 0}),
      steps: [
        {
          id: 'stop-all',
          title: 'Stop all',
          risk: 'data-risk',
          description: 'stops',
          confirmation: () => 'Stop n1 and throw its data away?',
          plan: () => ({summary: 'stop', commands: []}),
          act: async (ctx) => void (await ctx.run('n1', ['stop'])),
        },
        {
          id: 'move',
          title: 'Move the data aside',
          risk: 'change',
          description: 'relies on the consent above',
          plan: () => ({summary: 'mv', commands: []}),
          act: async (ctx) => {
            await ctx.run('n1', ['mv', '/data', '/data.old'])
            ctx.state.moved++
            if (fail) {
              fail = false
              throw new Error('copy failed')
            }
          },
        },
        {
          id: 'check',
          title: 'Check',
          risk: 'read',
          description: 'reads',
          plan: () => ({summary: 'check', commands: []}),
          act: async (ctx) => void (await ctx.run('n1', ['ls', '/data'])),
        },
      ],
    }
    // A 'yes' in the run's options is journaled with them: it must not count as the answer later.
    const first = await runRunbook(runbook, {loaded, remote: new FakeRunner(), options: {yes: true}, yes: true, journalDir: dir})
    expect(first.error).toMatchObject({step: 'move', message: 'copy failed'})
    const again = new FakeRunner()
    const refused = await runRunbook(runbook, {loaded, remote: again, options: {yes: true}, resume: true, journalDir: dir})
    expect(refused.outcome).toBe('stopped')
    expect(refused.error).toMatchObject({step: 'move', exitCode: 2})
    expect(refused.error!.message).toContain('Stop n1 and throw its data away?')
    expect(again.commands).toEqual([])
    // Confirmed again (--yes given now): it continues from the same step.
    const confirmed = new FakeRunner()
    const third = await runRunbook(runbook, {loaded, remote: confirmed, options: {}, yes: true, resume: true, journalDir: dir})
    expect(third.outcome).toBe('ok')
    expect(confirmed.commands).toEqual(['n1: mv /data /data.old', 'n1: ls /data'])
  })

  it('a failed step leaves the run resumable from that step, with the state it had', async () => {
    const runbook = sample({failOnce: {step: 'change'}})
    const first = await runRunbook(runbook, {loaded, remote: new FakeRunner(), options: {label: 'a'}, yes: true, journalDir: dir})
    expect(first.outcome).toBe('failed')
    expect(first.error).toMatchObject({message: 'boom on n2', step: 'change', exitCode: 1})
    const standing = findRunToResume('sample', 'test', undefined, dir)
    expect(standing.resumeStep).toBe('change')
    expect(standing.doneSteps).toEqual(['facts'])
    const again = new FakeRunner()
    const second = await runRunbook(runbook, {loaded, remote: again, options: {label: 'a'}, yes: true, resume: true, journalDir: dir})
    expect(second.outcome).toBe('ok')
    expect(again.commands).toEqual(['n1: uptime', 'n2: touch /x', 'n1: rm /y', 'n2: test -e /x'])
    // State carried over from the journal: the first attempt's change plus the retried one.
    expect(second.summary).toEqual({changed: ['n2', 'n2']})
  })

  it('a run killed mid-step (no end event) resumes from the step that started', async () => {
    const first = await runRunbook(sample(), {loaded, remote: new FakeRunner(), options: {label: 'a'}, yes: true, journalDir: dir})
    // Cut the journal right after "destroy" started, as if the process had been killed there.
    const lines = readFileSync(first.journal, 'utf8').trim().split('\n')
    const cut = lines.findIndex((l) => l.includes('"step":"destroy"') && l.includes('"started"'))
    writeFileSync(first.journal, lines.slice(0, cut + 1).join('\n') + '\n')
    expect(findRunToResume('sample', 'test', undefined, dir).resumeStep).toBe('destroy')
  })

  it('finishEarly marks the remaining steps as not needed', async () => {
    const remote = new FakeRunner()
    const result = await runRunbook(sample({earlyFinish: true}), {loaded, remote, options: {label: 'a'}, journalDir: dir})
    expect(result.outcome).toBe('ok')
    expect(result.finishedEarly).toBe('all healthy')
    expect(result.steps.map((s) => s.status)).toEqual(['done', 'not-needed', 'not-needed', 'not-needed'])
    expect(remote.commands).toEqual(['n1: uptime'])
  })

  it('never writes a registered secret to the journal or the audit log', async () => {
    registerSecret('s3cret-value')
    const remote = new FakeRunner((_n, text) => (text === 'uptime' ? {stdout: 'token is s3cret-value'} : {}))
    const result = await runRunbook(sample(), {loaded, remote, options: {label: 's3cret-value'}, yes: true, journalDir: dir})
    expect(readFileSync(result.journal, 'utf8')).not.toContain('s3cret-value')
    expect(readFileSync(join(dir, 'audit.log'), 'utf8')).not.toContain('s3cret-value')
    expect(result.steps[0]!.report).toEqual(['facts: token is ***'])
  })

  it('refuses --resume when there is no stopped run', async () => {
    await expect(runRunbook(sample(), {loaded, remote: new FakeRunner(), options: {label: 'a'}, resume: true, journalDir: dir})).rejects.toThrow(
      /No earlier run of sample on test/,
    )
  })

  it('takes the run lock for a real run only, releases it, and is refused when it cannot be taken', async () => {
    const taken: string[] = []
    let released = 0
    const lock = async (runId: string) => {
      taken.push(runId)
      return {release: async () => void released++}
    }
    // A dry run changes nothing: it takes no lock and may run alongside.
    expect((await runRunbook(sample(), {loaded, remote: new FakeRunner(), options: {label: 'a'}, dryRun: true, journalDir: dir, lock})).outcome).toBe('dry-run')
    expect(taken).toEqual([])
    const result = await runRunbook(sample(), {loaded, remote: new FakeRunner(), options: {label: 'a'}, yes: true, journalDir: dir, lock})
    expect(result.outcome).toBe('ok')
    expect(taken).toEqual([result.runId])
    expect(released).toBe(1)
    const held = new CtlError('sample on test refused: the lock is held by alice@laptop', {exitCode: 2, code: 'runbook.locked'})
    const remote = new FakeRunner()
    await expect(runRunbook(sample(), {loaded, remote, options: {label: 'a'}, yes: true, journalDir: dir, lock: () => Promise.reject(held)})).rejects.toBe(held)
    expect(remote.commands).toEqual([])
  })

  it('keeps the run error when releasing the lock fails too, and reports a failed release of a run that went well', async () => {
    const lock = async () => ({
      release: () =>
        Promise.reject(
          new CtlError('Could not release the run lock (/l/x.lock on n1)', {hint: 'remove it: ssh n1 rm -rf /l/x.lock', code: 'lock.release-failed'}),
        ),
    })
    const failed = await runRunbook(sample({failOnce: {step: 'change'}}), {
      loaded,
      remote: new FakeRunner(),
      options: {label: 'a'},
      yes: true,
      journalDir: dir,
      lock,
    })
    expect(failed.outcome).toBe('failed')
    expect(failed.error?.message).toBe('boom on n2')
    expect(failed.error?.hint).toContain('Also: Could not release the run lock (/l/x.lock on n1). remove it: ssh n1 rm -rf /l/x.lock')
    const ok = await runRunbook(sample(), {loaded, remote: new FakeRunner(), options: {label: 'a'}, yes: true, journalDir: dir, lock})
    expect(ok.outcome).toBe('ok')
    expect(ok.error).toMatchObject({message: 'Could not release the run lock (/l/x.lock on n1)', code: 'lock.release-failed', exitCode: 1})
  })
})
