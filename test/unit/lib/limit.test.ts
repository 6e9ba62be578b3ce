import {setTimeout as sleep} from 'node:timers/promises'
import {describe, expect, it} from 'vitest'
import {forEachLimited, mapLimit, Semaphore, withTimeout} from '../../../src/lib/limit.js'

/** Runs `n` tasks through `run`, recording the most that were in flight at once. */
async function peakOf(n: number, run: (task: () => Promise<void>) => Promise<unknown>): Promise<number> {
  let active = 0
  let peak = 0
  const task = async () => {
    active++
    peak = Math.max(peak, active)
    await sleep(5)
    active--
  }
  await Promise.all(Array.from({length: n}, () => run(task)))
  return peak
}

describe('Semaphore', () => {
  it('lets at most `size` holders in at once', async () => {
    const gate = new Semaphore(3)
    expect(await peakOf(10, (task) => gate.use(task))).toBe(3)
  })
})

describe('mapLimit', () => {
  it('keeps the input order and the bound', async () => {
    let active = 0
    let peak = 0
    const out = await mapLimit([30, 10, 20, 0], 2, async (ms) => {
      active++
      peak = Math.max(peak, active)
      await sleep(ms)
      active--
      return ms * 2
    })
    expect(out).toEqual([60, 20, 40, 0])
    expect(peak).toBe(2)
  })
})

describe('forEachLimited', () => {
  it('finishes every item even when one fails, then rejects with the first failure', async () => {
    const done: number[] = []
    const run = forEachLimited([1, 2, 3, 4], 2, async (i) => {
      await sleep(i * 3)
      if (i === 2) throw new Error('item 2 failed')
      done.push(i)
    })
    await expect(run).rejects.toThrow('item 2 failed')
    expect(done.sort()).toEqual([1, 3, 4])
  })

  it('treats a limit below 1 as 1', async () => {
    const order: number[] = []
    await forEachLimited([1, 2, 3], 0, async (i) => void order.push(i))
    expect(order).toEqual([1, 2, 3])
  })
})

describe('withTimeout', () => {
  it('rejects with the given error when the work is too slow, and passes a fast result through', async () => {
    await expect(withTimeout(sleep(200), 10, () => new Error('too slow'))).rejects.toThrow('too slow')
    await expect(withTimeout(Promise.resolve(7), 1000, () => new Error('too slow'))).resolves.toBe(7)
  })
})
