import {ExitCode} from '../lib/errors.js'
import type {CheckResult, CheckStatus} from './types.js'

export type CheckSummary = Record<CheckStatus, number>

export function summarize(results: readonly CheckResult[]): CheckSummary {
  const summary: CheckSummary = {pass: 0, warn: 0, fail: 0, error: 0, skip: 0}
  for (const r of results) summary[r.status]++
  return summary
}

/**
 * The run's exit code: 1 when something failed (or warned, with `strict`), else 2 when some check
 * could not run (the platform's fitness is unknown), else 0. A definite failure wins over an unknown:
 * either way the release must wait, and the failure is the more useful thing to report.
 */
export function preflightExitCode(summary: CheckSummary, strict: boolean): number {
  if (summary.fail > 0 || (strict && summary.warn > 0)) return ExitCode.failed
  if (summary.error > 0) return ExitCode.cannotRun
  return ExitCode.ok
}

/** The summary line under the table. */
export function summaryLine(summary: CheckSummary, exitCode: number): string {
  const parts = [
    `${summary.pass} passed`,
    `${summary.warn} warning${summary.warn === 1 ? '' : 's'}`,
    `${summary.fail} failed`,
    `${summary.error} could not run`,
  ]
  if (summary.skip > 0) parts.push(`${summary.skip} skipped`)
  const verdict = exitCode === ExitCode.ok ? 'fit to deploy' : exitCode === ExitCode.failed ? 'NOT fit to deploy' : 'unknown: some checks could not run'
  return `${parts.join(', ')} → ${verdict} (exit ${exitCode})`
}
