import {CtlError, ExitCode, toCtlError} from '../lib/errors.js'
import {runTasks} from '../lib/progress.js'
import type {LoadedInventory} from '../inventory/load.js'
import type {SshPool} from '../ssh/pool.js'
import {GatedRunner} from './gated-runner.js'
import {hostFactsCache, wantedFacts} from './host-facts.js'
import {mapLimit, withTimeout} from '../lib/limit.js'
import {connectStep, sshCheck} from './all/ssh.js'
import type {CheckContext, CheckDefinition, CheckResult, CheckTarget, Finding} from './types.js'

/** Default time budget of one check on one target. */
const DEFAULT_CHECK_TIMEOUT_MS = 30_000

export interface RunChecksOptions {
  /** Commands in flight at once over all hosts (the inventory's `ssh.concurrency`). */
  concurrency: number
  /** Overrides every check's time budget (tests, slow links). */
  timeoutMs?: number
}

/** Turns what a check returned, or threw, into report rows. */
function toResults(check: CheckDefinition, target: CheckTarget, outcome: {findings: Finding[]} | {error: unknown}, durationMs: number): CheckResult[] {
  const base = {check: check.id, title: check.title, target: target.name, durationMs}
  if ('error' in outcome) {
    const error = toCtlError(outcome.error)
    return [{...base, status: 'error', detail: error.message, hint: error.hint}]
  }
  return outcome.findings.map((f) => ({...base, target: f.target ?? target.name, status: f.status, detail: f.detail, hint: f.hint}))
}

async function runOne(check: CheckDefinition, target: CheckTarget, ctx: Omit<CheckContext, 'timeoutMs'>, budgetMs: number): Promise<CheckResult[]> {
  const started = Date.now()
  try {
    const found = await withTimeout(
      check.run({...ctx, timeoutMs: budgetMs}, target),
      budgetMs,
      () =>
        new CtlError(`timed out after ${budgetMs < 1000 ? `${budgetMs} ms` : `${Math.round(budgetMs / 1000)} s`}`, {
          exitCode: ExitCode.cannotRun,
          code: 'check.timeout',
          host: target.node?.name,
          hint: `The host or service may be stuck; rerun just this check: ctl check run <env> ${check.id}`,
        }),
    )
    return toResults(check, target, {findings: Array.isArray(found) ? found : [found]}, Date.now() - started)
  } catch (error) {
    return toResults(check, target, {error}, Date.now() - started)
  }
}

/** The nodes whose host facts the selected checks read (`readsHostFacts`): their facts command goes out as soon as each is connected. */
export function nodesReadingFacts(checks: readonly CheckDefinition[], inventory: LoadedInventory['inventory']): Set<string> {
  const names = new Set<string>()
  for (const check of checks) {
    if (check.readsHostFacts === 'every-node') for (const node of inventory.nodes) names.add(node.name)
    if (check.readsHostFacts === 'target') for (const target of check.targets(inventory)) if (target.node) names.add(target.node.name)
  }
  return names
}

function skipped(check: CheckDefinition): CheckResult {
  return {check: check.id, title: check.title, target: '-', status: 'skip', detail: check.skipReason ?? 'does not apply to this inventory', durationMs: 0}
}

/**
 * Runs the checks: first the SSH connection to every node, all at once up to `concurrency` (so a
 * down host costs one connect timeout, not one per check, and its ssh row says why), then every
 * check on every target in parallel, each under its time budget: the one facts command per host
 * (ssh check) alongside the Engine API and service checks. Never throws for a check: what cannot
 * run becomes an `error` row.
 */
export async function runChecks(loaded: LoadedInventory, pool: SshPool, checks: readonly CheckDefinition[], options: RunChecksOptions): Promise<CheckResult[]> {
  const runner = new GatedRunner(pool, {concurrency: options.concurrency})
  const inventory = loaded.inventory
  const connectBudget = options.timeoutMs ?? inventory.ssh.connectTimeoutMs + 20_000
  const ctx = {
    loaded,
    inventory,
    pool,
    remote: runner,
    hostFacts: hostFactsCache(runner, inventory, wantedFacts(checks), () => connectBudget),
    isReachable: (node: Parameters<GatedRunner['isReachable']>[0]) => runner.isReachable(node),
  }
  const own = (check: CheckDefinition) => (typeof check.timeoutMs === 'function' ? check.timeoutMs(inventory) : check.timeoutMs)
  const budget = (check: CheckDefinition) => options.timeoutMs ?? own(check) ?? DEFAULT_CHECK_TIMEOUT_MS

  // A host's facts command is sent as soon as it is connected (it waits for nothing else), so the
  // commands of the first hosts run while the last ones still connect; the checks find it under way.
  const readFacts = nodesReadingFacts(checks, inventory)
  const connect = async (target: CheckTarget) => {
    const rows = await runOne(connectStep, target, ctx, connectBudget)
    // A failure here is kept by no one: the check that awaits the facts asks again and reports it.
    if (target.node && readFacts.has(target.name) && rows.every((r) => r.status === 'pass')) ctx.hostFacts(target.node).catch(() => undefined)
    return rows
  }
  const connected = (await mapLimit(sshCheck.targets(inventory), options.concurrency, connect)).flat()
  const refused = connected.filter((row) => row.status === 'fail' || row.status === 'error')
  for (const row of refused) runner.markUnreachable(row.target, row.detail)

  const byCheck = new Map<string, CheckResult[]>()
  // The ssh rows: the connection's refusal for a host that could not be reached, the facts command's answer for the others.
  const isSsh = (check: CheckDefinition) => check.id === sshCheck.id
  const targetsOf = (check: CheckDefinition) => check.targets(inventory).filter((t) => !isSsh(check) || !refused.some((r) => r.target === t.name))
  const nodeOrder = (row: CheckResult) => inventory.nodes.findIndex((n) => n.name === row.target)
  try {
    await runTasks(
      checks.map((check) => ({key: check.id, title: check.title, check})),
      async ({check}, report) => {
        const targets = targetsOf(check)
        if (targets.length === 0 && !isSsh(check)) {
          byCheck.set(check.id, [skipped(check)])
          return
        }
        report.status(targets.map((t) => t.name).join(', '))
        const found = (await mapLimit(targets, options.concurrency, (target) => runOne(check, target, ctx, budget(check)))).flat()
        const rows = isSsh(check) ? [...refused, ...found].sort((a, b) => nodeOrder(a) - nodeOrder(b)) : found
        byCheck.set(check.id, rows)
        const bad = rows.filter((r) => r.status === 'fail' || r.status === 'error')
        // Marks the progress line; the rows carry the details.
        if (bad.length > 0) throw new CtlError(bad.map((r) => `${r.target} ${r.status}`).join(', '))
      },
      {concurrency: Math.max(1, checks.length)},
    )
  } finally {
    runner.close()
  }
  return checks.flatMap((c) => byCheck.get(c.id) ?? [])
}
