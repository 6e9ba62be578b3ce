import {existsSync, readFileSync} from 'node:fs'
import {expect} from 'vitest'
import {labVaultKeysFile} from '../../../packages/lab/src/components/vault.js'
import type {StatusProblem, StatusReport} from '../../../src/status/report.js'
import {json, projectRoot, runCtl, type CliRun} from '../../support/cli.js'

/** `ctl status` in the lab tests: a report, and the assertion that a break is what it lists first. */

/** Vault's root token from `ctl vault init lab` (without one the vault row only warns that Raft peers were not checked). */
export function labVaultEnv(): Record<string, string> {
  const file = labVaultKeysFile(projectRoot)
  return existsSync(file) ? {VAULT_TOKEN: JSON.parse(readFileSync(file, 'utf8')).root_token} : {}
}

export async function labStatus(inventory = 'lab', args: string[] = []): Promise<{run: CliRun; report: StatusReport}> {
  const run = await runCtl(['status', inventory, '--json', ...args], {env: labVaultEnv(), timeoutMs: 120_000})
  return {run, report: json<StatusReport>(run)}
}

const key = (p: StatusProblem) => `${p.severity} ${p.area} ${p.target}`

/** The areas the other side of stage 1 works on meanwhile (scripts/test.mjs runs lab-swarm and lab-data side by side). */
export const SWARM_SIDE = ['swarm', 'service-health', 'registry-pull', 'redis', 'rabbitmq']
export const DATA_SIDE = ['galera', 'galera-replica', 'patroni', 'etcd', 'vault', 'backups']

/**
 * After a break: `ctl status` exits non-zero (with --json carrying the same) and the first problem it
 * lists that was not there before the break (`baseline`) is the break's, with the severity `fail`.
 * Problems of `otherSide` are not counted: on the shared lab another test file may be breaking them.
 * Returns the report for more assertions.
 */
export async function expectStatusListsFirst(
  baseline: StatusReport | undefined,
  area: string | RegExp,
  target: string | RegExp,
  otherSide: readonly string[] = [],
  inventory = 'lab',
  severity: 'fail' | 'error' = 'fail',
): Promise<StatusReport> {
  const {run, report} = await labStatus(inventory)
  const before = new Set((baseline?.problems ?? []).map(key))
  const fresh = report.problems.filter((p) => !before.has(key(p)) && !otherSide.includes(p.area))
  const summary = report.problems.map((p) => `${key(p)}: ${p.detail}`).join('\n')
  expect(fresh[0], summary).toMatchObject({
    severity,
    area: typeof area === 'string' ? area : expect.stringMatching(area),
    target: typeof target === 'string' ? target : expect.stringMatching(target),
  })
  // A failure exits 1; a part that could not be read (and nothing failed) 2.
  expect(run.exitCode, summary).toBe(report.problems.some((p) => p.severity === 'fail') ? 1 : 2)
  expect(report.exitCode).toBe(run.exitCode)
  return report
}
