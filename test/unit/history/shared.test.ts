import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {appendHistoryCommand, historyLine, historyPath, isShared, parseHistory, parseSince, readHistoryCommand} from '../../../src/history/shared.js'
import {renderCommand} from '../../../src/lib/shell.js'

describe('shared history', () => {
  it('takes the runs that act on an environment, not checks, listings, dry runs or refusals', () => {
    for (const id of ['deploy', 'rollback', 'reload', 'runbook:galera-recover', 'vault:unseal', 'backup:prune', 'node:drain', 'exec'])
      expect(isShared(id, 'ok'), id).toBe(true)
    for (const id of ['check:preflight', 'runbook:list', 'runbook:show', 'backup:list', 'node:list', 'history', 'doctor', 'inventory:validate'])
      expect(isShared(id, 'ok'), id).toBe(false)
    for (const outcome of ['dry-run', 'refused', 'declined', 'no-changes']) expect(isShared('deploy', outcome)).toBe(false)
    expect(isShared('deploy', 'rolled-back')).toBe(true)
  })

  it('keeps when, who, what, outcome, duration, hosts and the error, not the detail', () => {
    const line = historyLine({
      time: '2026-12-07T10:00:00.000Z',
      operator: 'alice',
      env: 'prod',
      command: 'deploy prod --yes',
      outcome: 'failed',
      durationMs: 1234,
      hosts: ['h1'],
      detail: {error: 'x'.repeat(600), big: 'y'.repeat(10_000)},
    })
    expect(line).toEqual({
      time: '2026-12-07T10:00:00.000Z',
      operator: 'alice',
      env: 'prod',
      command: 'deploy prod --yes',
      outcome: 'failed',
      durationMs: 1234,
      hosts: ['h1'],
      error: 'x'.repeat(500),
    })
  })

  it('appends under a lock: many writers at once, every line whole; reads the newest lines', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ctl-history-')), "locks 'x'")
    const append = renderCommand(appendHistoryCommand(dir, 'prod'))
    const line = (i: number) =>
      `${JSON.stringify({time: `2026-12-07T10:00:${String(i).padStart(2, '0')}.000Z`, operator: `op${i}`, env: 'prod', command: 'x'.repeat(5000), outcome: 'ok'})}\n`
    await Promise.all(
      Array.from(
        {length: 20},
        (_, i) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn('sh', ['-c', append])
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))))
            child.stdin.end(line(i))
          }),
      ),
    )
    const text = readFileSync(historyPath(dir, 'prod'), 'utf8')
    expect(parseHistory(text)).toHaveLength(20)
    expect(parseHistory(text)[0]!.operator).toBe('op19')
    const tail = execFileSync('sh', ['-c', renderCommand(readHistoryCommand(dir, 'prod', 3))], {encoding: 'utf8'})
    // The last three lines appended (writers finished in any order), newest first by their time.
    const newest = parseHistory(tail)
    expect(newest).toHaveLength(3)
    expect([...newest].sort((a, b) => b.time.localeCompare(a.time))).toEqual(newest)
    expect(execFileSync('sh', ['-c', renderCommand(readHistoryCommand(dir, 'none', 3))], {encoding: 'utf8'})).toBe('')
  })

  it('filters by operator and time, newest first; skips torn lines', () => {
    const text = [
      JSON.stringify({time: '2026-12-07T08:00:00.000Z', operator: 'bob', env: 'p', command: 'deploy p', outcome: 'ok'}),
      '{"time": "2026-12-07T09:0',
      JSON.stringify({time: '2026-12-07T10:00:00.000Z', operator: 'alice', env: 'p', command: 'runbook:x p', outcome: 'completed'}),
      'not json',
    ].join('\n')
    expect(parseHistory(text).map((l) => l.operator)).toEqual(['alice', 'bob'])
    expect(parseHistory(text, {operator: 'bob'}).map((l) => l.command)).toEqual(['deploy p'])
    expect(parseHistory(text, {since: new Date('2026-12-07T09:00:00Z')}).map((l) => l.operator)).toEqual(['alice'])
  })

  it('reads --since as a duration back from now or as a date', () => {
    const now = new Date('2026-12-07T12:00:00Z')
    expect(parseSince('2h', now)!.toISOString()).toBe('2026-12-07T10:00:00.000Z')
    expect(parseSince('30m', now)!.toISOString()).toBe('2026-12-07T11:30:00.000Z')
    expect(parseSince('7d', now)!.toISOString()).toBe('2026-11-30T12:00:00.000Z')
    expect(parseSince('2026-12-01 10:00Z', now)!.toISOString()).toBe('2026-12-01T10:00:00.000Z')
    expect(parseSince('soon', now)).toBeUndefined()
  })
})
