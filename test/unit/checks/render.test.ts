import {describe, expect, it} from 'vitest'
import {orderResults, renderResultTable} from '../../../src/checks/render.js'
import type {CheckResult} from '../../../src/checks/types.js'

const r = (check: string, target: string, status: CheckResult['status'], detail: string, hint?: string): CheckResult => ({
  check,
  title: check,
  target,
  status,
  detail,
  hint,
  durationMs: 0,
})

describe('renderResultTable', () => {
  it('groups rows by check, names the check once, and puts hints under problems only', () => {
    const lines = renderResultTable([
      r('ssh', 'h1', 'pass', 'connected', 'never shown'),
      r('ssh', 'h2', 'fail', 'refused', 'start sshd'),
      r('memory', 'h1', 'error', 'not run', 'see ssh'),
    ])
    expect(lines).toEqual([
      'CHECK   TARGET  STATUS  DETAIL',
      'ssh     h1      ok      connected',
      '        h2      FAIL    refused',
      '                        hint: start sshd',
      'memory  h1      ERROR   not run',
      '                        hint: see ssh',
    ])
  })
})

describe('orderResults', () => {
  it('keeps registry order across checks and natural order of targets within one', () => {
    const ordered = orderResults([r('b', 'h10', 'pass', ''), r('a', 'h2', 'pass', ''), r('b', 'h2', 'pass', ''), r('a', 'h1', 'pass', '')], ['a', 'b'])
    expect(ordered.map((x) => `${x.check}/${x.target}`)).toEqual(['a/h1', 'a/h2', 'b/h2', 'b/h10'])
  })
})
