import {afterEach, describe, expect, it, vi} from 'vitest'
import {CtlError} from '../../../src/lib/errors.js'
import {runTasks, setProgressQuiet} from '../../../src/lib/progress.js'

describe('runTasks when quiet (--json)', () => {
  afterEach(() => setProgressQuiet(false))

  it('runs every item under the limit, keeps each outcome, goes on after a failure and prints nothing', async () => {
    setProgressQuiet(true)
    const out = vi.spyOn(process.stdout, 'write')
    const err = vi.spyOn(process.stderr, 'write')
    let inFlight = 0
    let most = 0
    const items = ['a', 'b', 'c', 'd', 'e'].map((key) => ({key, title: key}))
    const outcomes = await runTasks(
      items,
      async ({key}, report) => {
        report.status(`working on ${key}`)
        most = Math.max(most, ++inFlight)
        await new Promise((r) => setTimeout(r, 20))
        inFlight--
        if (key === 'b') throw new CtlError('b broke', {hint: 'fix b'})
        return key.toUpperCase()
      },
      {concurrency: 2},
    )
    expect(most).toBe(2)
    expect(Object.fromEntries([...outcomes].map(([k, o]) => [k, o.ok ? o.value : `${o.error.message} (${o.error.hint})`]))).toEqual({
      a: 'A',
      b: 'b broke (fix b)',
      c: 'C',
      d: 'D',
      e: 'E',
    })
    expect(out).not.toHaveBeenCalled()
    expect(err).not.toHaveBeenCalled()
    out.mockRestore()
    err.mockRestore()
  })
})
