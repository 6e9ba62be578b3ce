import type {LoadedInventory} from '../inventory/load.js'
import type {SshPool} from '../ssh/pool.js'
import {orderResults} from './render.js'
import {runChecks} from './run.js'
import type {CheckDefinition, CheckResult} from './types.js'
import {preflightExitCode, summarize, type CheckSummary} from './verdict.js'

/** What `ctl check preflight|run --json` prints. */
export interface PreflightReport {
  env: string
  strict: boolean
  checks: string[]
  results: CheckResult[]
  summary: CheckSummary
  exitCode: number
  durationMs: number
}

export async function preflight(
  loaded: LoadedInventory,
  pool: SshPool,
  checks: readonly CheckDefinition[],
  options: {strict: boolean; timeoutMs?: number},
): Promise<PreflightReport> {
  const started = Date.now()
  const results = orderResults(
    await runChecks(loaded, pool, checks, {concurrency: loaded.inventory.ssh.concurrency, timeoutMs: options.timeoutMs}),
    checks.map((c) => c.id),
  )
  const summary = summarize(results)
  return {
    env: loaded.env,
    strict: options.strict,
    checks: checks.map((c) => c.id),
    results,
    summary,
    exitCode: preflightExitCode(summary, options.strict),
    durationMs: Date.now() - started,
  }
}
