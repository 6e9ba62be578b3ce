import {describe, expect, it} from 'vitest'
import {preflightExitCode, summarize, summaryLine} from '../../../src/checks/verdict.js'
import type {CheckResult, CheckStatus} from '../../../src/checks/types.js'

const row = (status: CheckStatus): CheckResult => ({check: 'x', title: 'x', target: 'h1', status, detail: '', durationMs: 1})
const summaryOf = (...statuses: CheckStatus[]) => summarize(statuses.map(row))

describe('preflightExitCode', () => {
  it.each([
    {statuses: ['pass', 'pass', 'skip'], strict: false, code: 0},
    {statuses: ['pass', 'warn'], strict: false, code: 0},
    {statuses: ['pass', 'warn'], strict: true, code: 1},
    {statuses: ['pass', 'fail'], strict: false, code: 1},
    {statuses: ['pass', 'error'], strict: false, code: 2},
    {statuses: ['warn', 'error'], strict: true, code: 1},
    {statuses: ['fail', 'error'], strict: false, code: 1},
    {statuses: [], strict: false, code: 0},
  ] as {statuses: CheckStatus[]; strict: boolean; code: number}[])('$statuses strict=$strict → $code', ({statuses, strict, code}) => {
    expect(preflightExitCode(summaryOf(...statuses), strict)).toBe(code)
  })
})

describe('summaryLine', () => {
  it('counts every status and names the verdict', () => {
    expect(summaryLine(summaryOf('pass', 'pass', 'warn', 'fail', 'error', 'skip'), 1)).toBe(
      '2 passed, 1 warning, 1 failed, 1 could not run, 1 skipped → NOT fit to deploy (exit 1)',
    )
    expect(summaryLine(summaryOf('pass'), 0)).toBe('1 passed, 0 warnings, 0 failed, 0 could not run → fit to deploy (exit 0)')
    expect(summaryLine(summaryOf('error'), 2)).toContain('unknown: some checks could not run (exit 2)')
  })
})
