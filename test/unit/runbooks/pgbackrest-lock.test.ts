import {describe, expect, it} from 'vitest'
import {runPgbackrest} from '../../../src/runbooks/pgbackrest-common.js'

// pgBackRest fails at once when another of its processes holds the lock (PostgreSQL's archive-push
// takes the archive lock every few seconds): ctl runs the command again, for a while, and only then.
const BUSY = {code: 50, stdout: '', stderr: "ERROR: [050]: unable to acquire lock on file '/tmp/pgbackrest/x-archive.lock': Resource temporarily unavailable"}

function ctxAnswering(...answers: {code: number; stdout: string; stderr: string}[]) {
  const calls: string[][] = []
  const progress: string[] = []
  return {
    calls,
    progress,
    ctx: {
      run: async (_node: string, argv: unknown) => {
        calls.push(argv as string[])
        return {node: 'h4', ...answers[Math.min(calls.length - 1, answers.length - 1)]!} as never
      },
      progress: (t: string) => progress.push(t),
    },
  }
}

describe('runPgbackrest', () => {
  it('runs the command again while the lock is busy, and returns the first answer that is not', async () => {
    const {ctx, calls, progress} = ctxAnswering(BUSY, BUSY, {code: 0, stdout: 'ok', stderr: ''})
    const r = await runPgbackrest(ctx, 'h4', ['pgbackrest', 'stanza-create'], {timeoutMs: 1000, waitMs: 10_000})
    expect(r.code).toBe(0)
    expect(calls).toHaveLength(3)
    expect(progress[0]).toContain('holds the lock on h4')
  })

  it('never runs again a command that failed for another reason', async () => {
    const {ctx, calls} = ctxAnswering({code: 56, stdout: '', stderr: 'ERROR: [056]: unable to find primary cluster'})
    expect((await runPgbackrest(ctx, 'h4', ['pgbackrest', 'check'], {timeoutMs: 1000})).code).toBe(56)
    expect(calls).toHaveLength(1)
  })

  it('gives up after the wait with the busy answer', async () => {
    const {ctx, calls} = ctxAnswering(BUSY)
    expect((await runPgbackrest(ctx, 'h4', ['pgbackrest', 'backup'], {timeoutMs: 1000, waitMs: 1500})).code).toBe(50)
    expect(calls.length).toBeGreaterThanOrEqual(2)
    expect(calls.length).toBeLessThanOrEqual(4)
  })
})
