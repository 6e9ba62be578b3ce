import {allChecks} from '../checks/registry.js'
import {runChecks} from '../checks/run.js'
import type {CheckResult} from '../checks/types.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import type {LoadedInventory} from '../inventory/load.js'
import type {SshPool} from '../ssh/pool.js'

/**
 * The quick preflight subset a deploy runs first (the preflight engineer's checks): hosts reachable,
 * engines answering, the swarm healthy, node labels and placement as the stack files expect. The
 * host-port capacity of each service is checked by the plan itself.
 */
const DEPLOY_PREFLIGHT_CHECKS = ['ssh', 'docker-engine', 'swarm', 'node-labels', 'placement']

export async function deployPreflight(loaded: LoadedInventory, pool: SshPool): Promise<CheckResult[]> {
  const checks = allChecks.filter((c) => DEPLOY_PREFLIGHT_CHECKS.includes(c.id))
  return runChecks(loaded, pool, checks, {concurrency: loaded.inventory.ssh.concurrency})
}

/** Rows that stop a deploy: a failed check, or one that could not run. Warnings do not. */
export function preflightBlockers(results: readonly CheckResult[]): CheckResult[] {
  return results.filter((r) => r.status === 'fail' || r.status === 'error')
}

export function preflightError(env: string, blockers: readonly CheckResult[]): CtlError {
  const lines = blockers.map((b) => `${b.check} ${b.target}: ${b.detail}`)
  return new CtlError(`Preflight failed, nothing was deployed:\n${lines.join('\n')}`, {
    exitCode: ExitCode.cannotRun,
    code: 'deploy.preflight',
    host: blockers[0]?.target,
    step: 'preflight',
    hint: blockers.find((b) => b.hint)?.hint ?? `Run \`ctl check preflight ${env}\` for the full report.`,
  })
}
