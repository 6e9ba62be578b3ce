import {describe, expect, it} from 'vitest'
import {judgeDiskFree, parseDfAvailableMb} from '../../../src/checks/all/disk-free.js'
import {judgeMemory, parseMeminfo} from '../../../src/checks/all/memory.js'
import {clockBoundsFromFacts, consensusOffset, judgeClockSkew, offsetBounds} from '../../../src/checks/all/clock-skew.js'

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
  it('bounds the offset by the round trip', () => {
    expect(offsetBounds(1000, '1500000000\n', 1200)).toEqual({low: 300, high: 500})
  })
  const reading = (ms: number) => ({code: 0, output: `${ms * 1_000_000}`})
  it.each([
    // the script ran 150 ms of the 200 ms round trip: the offset is pinned to 50 ms, not 200
    {start: 1500, end: 1650, sentAt: 1000, receivedAt: 1200, bounds: {low: 450, high: 500}},
    // a script as long as the round trip: the offset is exact
    {start: 1500, end: 1700, sentAt: 1000, receivedAt: 1200, bounds: {low: 500, high: 500}},
    // the clock stepped forward during the script: the first reading's round trip alone
    {start: 1500, end: 9000, sentAt: 1000, receivedAt: 1200, bounds: {low: 300, high: 500}},
  ])('bounds the offset by one facts command: clock read at $start and $end, trip $sentAt-$receivedAt', ({start, end, sentAt, receivedAt, bounds}) => {
    expect(clockBoundsFromFacts('h1', {start: reading(start), end: reading(end), sentAt, receivedAt})).toEqual({node: 'h1', ...bounds})
  })
  it('cannot run without GNU date', () => {
    expect(() => clockBoundsFromFacts('h1', {start: {code: 0, output: '1700000000N'}, end: reading(1500), sentAt: 0, receivedAt: 1})).toThrow(
      /gave no nanosecond time: 1700000000N/,
    )
  })
  it('takes the offset most intervals agree on as the reference', () => {
    expect(
      consensusOffset([
        {low: -100, high: 100},
        {low: -50, high: 300},
        {low: 5000, high: 5100},
      ]),
    ).toBe(25)
  })
  it('fails only a node off the consensus by more than the limit at the nearest end of its interval', () => {
    const findings = judgeClockSkew(
      [
        {node: 'h1', low: -400, high: 300},
        {node: 'h2', low: -3000, high: 3000},
        {node: 'h3', low: 4800, high: 5200},
        {node: 'h4', low: -2500, high: -500},
        {node: 'h5', low: -200, high: 200},
      ],
      2000,
    )
    expect(findings.map((f) => [f.target, f.status])).toEqual([
      ['h1', 'pass'],
      ['h2', 'warn'],
      ['h3', 'fail'],
      ['h4', 'warn'],
      ['h5', 'pass'],
    ])
    expect(findings[2]!.detail).toBe("+5000 ms from the nodes' consensus (±200 ms, limit 2000 ms)")
  })
  it('passes nodes sharing one clock however slow the round trips, when their intervals overlap', () => {
    const shared = [
      {node: 'h1', low: -1300, high: 400},
      {node: 'h2', low: -900, high: 1800},
      {node: 'h3', low: -200, high: 100},
    ]
    expect(judgeClockSkew(shared, 2000).map((f) => f.status)).toEqual(['pass', 'pass', 'pass'])
  })
  it('has nothing to compare with one node', () => {
    expect(judgeClockSkew([{node: 'h1', low: 99999, high: 100000}], 10)[0]!.status).toBe('pass')
  })
})
