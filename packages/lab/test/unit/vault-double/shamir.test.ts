import {randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {combine, split} from '../../../src/vault-double/shamir.js'

/** Every k-element subset of [0..n). */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]]
  if (n < k) return []
  return [...subsets(n - 1, k - 1).map((s) => [...s, n - 1]), ...subsets(n - 1, k)]
}

describe('shamir split/combine', () => {
  it.each([
    [5, 3],
    [3, 2],
    [4, 4],
    [7, 5],
  ])('%i shares, threshold %i: every threshold-sized subset gives back the secret', (shares, threshold) => {
    const secret = randomBytes(32)
    const parts = split(secret, shares, threshold)
    expect(parts).toHaveLength(shares)
    for (const part of parts) expect(part).toHaveLength(33)
    expect(new Set(parts.map((p) => p[32])).size).toBe(shares)
    for (const chosen of subsets(shares, threshold)) {
      expect(combine(chosen.map((i) => parts[i]!)).equals(secret)).toBe(true)
    }
  })

  it('fewer shares than the threshold do not give back the secret', () => {
    const secret = randomBytes(32)
    const parts = split(secret, 5, 3)
    expect(combine([parts[0]!, parts[1]!]).equals(secret)).toBe(false)
  })

  it('shares of two different splits do not combine into either secret', () => {
    const a = randomBytes(32)
    const b = randomBytes(32)
    const pa = split(a, 5, 3)
    const pb = split(b, 5, 3)
    // Pick x-coordinates that differ, so combine does not refuse a duplicate.
    const other = pb.find((p) => p[32] !== pa[0]![32] && p[32] !== pa[1]![32])!
    const mixed = combine([pa[0]!, pa[1]!, other])
    expect(mixed.equals(a)).toBe(false)
    expect(mixed.equals(b)).toBe(false)
  })

  it('refuses duplicate, uneven or too few parts, and bad configurations', () => {
    const parts = split(randomBytes(16), 3, 2)
    expect(() => combine([parts[0]!, parts[0]!])).toThrow('duplicate part detected')
    expect(() => combine([parts[0]!, parts[1]!.subarray(1)])).toThrow('same length')
    expect(() => combine([parts[0]!])).toThrow('less than two parts')
    expect(() => split(randomBytes(16), 2, 3)).toThrow('threshold cannot be larger than shares')
    expect(() => split(randomBytes(16), 256, 3)).toThrow('shares must be less than 256')
  })
})
