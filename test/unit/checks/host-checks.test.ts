import {describe, expect, it} from 'vitest'
import {judgeDiskFree, parseDfAvailableMb} from '../../../src/checks/all/disk-free.js'
import {judgeMemory, parseMeminfo} from '../../../src/checks/all/memory.js'
import {combineBounds, judgeClockSkew, offsetBounds} from '../../../src/checks/all/clock-skew.js'

describe('disk-free', () => {
  it('reads the available column of df -Pk', () => {
    const df = 'Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda         264212084 23982924  82407988      23% /\n'
    expect(parseDfAvailableMb(df)).toBe(80476)
    expect(parseDfAvailableMb('df: /nope: No such file or directory')).toBeUndefined()
  })
  it.each([
    [5000, 2048, 'pass'],
    [2500, 2048, 'warn'],
    [1000, 2048, 'fail'],
  ] as const)('%i MiB free against %i → %s', (free, min, status) => {
    expect(judgeDiskFree(free, min, '/').status).toBe(status)
  })
})

describe('memory', () => {
  it('reads MemAvailable and MemTotal', () => {
    expect(parseMeminfo('MemTotal:       24683652 kB\nMemFree:  1 kB\nMemAvailable:   24276012 kB\n')).toEqual({availableMb: 23707, totalMb: 24105})
    expect(parseMeminfo('MemTotal: 1 kB\n')).toBeUndefined()
  })
  it('fails below the limit', () => {
    expect(judgeMemory({availableMb: 300, totalMb: 1000}, 512).status).toBe('fail')
    expect(judgeMemory({availableMb: 600, totalMb: 1000}, 512)).toEqual({status: 'pass', detail: '600 MiB available of 1000 (minimum 512)'})
  })
})

describe('clock-skew', () => {
  it('bounds the offset by the round trip, and narrows it with several trips', () => {
    expect(offsetBounds(1000, '1500000000\n', 1200)).toEqual({low: 300, high: 500})
    expect(combineBounds('h1', [offsetBounds(1000, '1500000000', 1200)])).toEqual({node: 'h1', offsetMs: 400, uncertaintyMs: 100})
    // read early in one trip and late in another: together they pin the offset to [450, 480]
    expect(combineBounds('h1', [{low: 300, high: 480}, {low: 450, high: 900}])).toEqual({node: 'h1', offsetMs: 465, uncertaintyMs: 15})
    // disjoint (a clock stepped): the narrowest trip alone
    expect(combineBounds('h1', [{low: 0, high: 10}, {low: 100, high: 300}])).toEqual({node: 'h1', offsetMs: 5, uncertaintyMs: 5})
  })
  it('judges each node against the median node', () => {
    const findings = judgeClockSkew(
      [
        {node: 'h1', offsetMs: 10, uncertaintyMs: 5},
        {node: 'h2', offsetMs: 0, uncertaintyMs: 5},
        {node: 'h3', offsetMs: 5000, uncertaintyMs: 5},
        {node: 'h4', offsetMs: 2100, uncertaintyMs: 200},
      ],
      2000,
    )
    expect(findings.map((f) => [f.target, f.status])).toEqual([
      ['h1', 'pass'],
      ['h2', 'pass'],
      ['h3', 'fail'],
      ['h4', 'warn'],
    ])
    expect(findings[2]!.detail).toBe('+4990 ms from the median node (±5 ms, limit 2000 ms)')
  })
  it('has nothing to compare with one node', () => {
    expect(judgeClockSkew([{node: 'h1', offsetMs: 99999, uncertaintyMs: 1}], 10)[0]!.status).toBe('pass')
  })
})
