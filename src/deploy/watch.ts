import type {Inventory, InventoryNode, InventoryService} from '../inventory/schema/index.js'
import type {ManagerHandle} from '../swarm/cluster.js'
import {decideRollback, decideRollout, type RolloutDecision, type StepState, type TimedVerdict} from './decide.js'
import {evaluateGate, lastAnswers, probeHealth, type GateVerdict, type Probe} from './gate.js'
import {healthUrl} from './health-url.js'
import {readService} from './swarm-io.js'
import type {ServiceView, TaskView} from './swarm-state.js'

/**
 * Follows one service while Swarm rolls it (or rolls it back) and runs ctl's /health gate on every
 * task of the new spec: probes from the operator's machine every `intervalMs` (passed tasks too: the
 * monitor window), reads Swarm's view every 500 ms, lets Swarm go on after each batch that passed
 * (`advance`), releases its hold at the end (`finish`), and returns once the decision is done or failed.
 */

export interface TaskGate {
  task: string
  node?: string
  url?: string
  /** When the task was first seen starting or running (its first probe); until then, when Swarm listed it. */
  startedAt: number
  /** When the gate passed: startedAt → passedAt is the time one task took to start and pass. */
  passedAt?: number
  probes: Probe[]
  verdict: GateVerdict
}

export interface WatchOutcome {
  decision: Extract<RolloutDecision, {kind: 'done' | 'failed'}>
  view: ServiceView
  gates: TaskGate[]
  durationMs: number
}

export interface WatchOptions {
  manager: ManagerHandle
  inventory: Inventory
  service: InventoryService
  swarmName: string
  nodesById: ReadonlyMap<string, InventoryNode>
  phase: 'rollout' | 'rollback'
  /** Task ids that existed before the rollout (their old failures are not this rollout's). */
  before?: ReadonlySet<string>
  timeoutMs: number
  report?: (text: string) => void
  /** Lets Swarm replace the next batch (rollout phase). */
  advance?: () => Promise<void>
  /** Releases Swarm's hold once every replica passed and the monitor window is over. */
  finish?: () => Promise<void>
}

const MAX_PROBES_KEPT = 400
/** A finish Swarm has not acted on after this long is sent again. */
const FINISH_RETRY_MS = 15_000

export async function watchService(options: WatchOptions): Promise<WatchOutcome> {
  const {manager, inventory, service, swarmName, nodesById, phase} = options
  const health = service.health!
  const started = Date.now()
  const gates = new Map<string, TaskGate>()
  const before = options.before ?? new Set<string>()
  let view = await readService(manager, swarmName)
  let lastRead = Date.now()
  let lastReport = ''
  const step: StepState = {now: Date.now(), monitorMs: service.rollout.monitorSeconds * 1000}
  let finishedAt = 0
  for (;;) {
    const now = Date.now()
    if (now - lastRead >= 500) {
      view = await readService(manager, swarmName)
      lastRead = Date.now()
    }
    const tasks = view.tasks.filter((t) => t.current && t.desiredState === 'running' && !before.has(t.id))
    await Promise.all(tasks.map((task) => probeTask(gates, task, inventory, service, nodesById)))
    const verdicts = new Map<string, TimedVerdict>()
    for (const gate of gates.values()) {
      const verdict = evaluateGate(gate.probes, gate.startedAt, Date.now(), health)
      // Passed stays passed unless the task fails afterwards (the monitor window).
      if (gate.verdict.state === 'passed' && verdict.state !== 'failed') continue
      if (gate.verdict.state === 'pending' && verdict.state === 'passed') gate.passedAt = Date.now()
      if (gate.verdict.state !== 'failed') gate.verdict = verdict
    }
    for (const gate of gates.values()) verdicts.set(gate.task, {...gate.verdict, passedAt: gate.passedAt})
    step.now = Date.now()
    if (finishedAt && step.now - finishedAt > FINISH_RETRY_MS) step.finishing = false
    const decision = phase === 'rollout' ? decideRollout(view, verdicts, before, step) : decideRollback(view, verdicts)
    if (decision.kind === 'done' || decision.kind === 'failed') return {decision, view, gates: [...gates.values()], durationMs: Date.now() - started}
    if (decision.kind === 'advance' && options.advance) {
      step.advancedAt = decision.healthy
      options.report?.(`${swarmName}: ${decision.healthy}/${decision.wanted} task(s) passed the gate; Swarm may replace the next`)
      await options.advance()
      lastRead = 0
      continue
    }
    if (decision.kind === 'finish' && options.finish) {
      step.finishing = true
      finishedAt = Date.now()
      await options.finish()
      lastRead = 0
      continue
    }
    const counts = decision.kind === 'waiting' || decision.kind === 'advance' ? `${decision.healthy}/${decision.wanted}` : 'all'
    const progress = `${phase === 'rollout' ? 'rolling' : 'rolling back'} ${swarmName}: ${counts} task(s) passed the gate${view.updateState ? ` (swarm: ${view.updateState})` : ''}`
    if (progress !== lastReport) options.report?.((lastReport = progress))
    if (Date.now() - started > options.timeoutMs) {
      return {
        decision: {
          kind: 'failed',
          reason: `${phase} of ${swarmName} did not finish within ${Math.round(options.timeoutMs / 1000)} s (${counts} healthy, swarm: ${view.updateState ?? 'no update'})`,
          swarmRollingBack: view.updateState?.startsWith('rollback') ?? false,
        },
        view,
        gates: [...gates.values()],
        durationMs: Date.now() - started,
      }
    }
    await new Promise((resolve) => setTimeout(resolve, health.intervalMs))
  }
}

async function probeTask(
  gates: Map<string, TaskGate>,
  task: TaskView,
  inventory: Inventory,
  service: InventoryService,
  nodesById: ReadonlyMap<string, InventoryNode>,
): Promise<void> {
  const health = service.health!
  const node = task.nodeId ? nodesById.get(task.nodeId) : undefined
  let gate = gates.get(task.id)
  if (!gate) {
    gate = {task: task.id, node: node?.name, startedAt: Date.now(), probes: [], verdict: {state: 'pending', healthyForMs: 0}}
    gates.set(task.id, gate)
  }
  gate.node ??= node?.name
  gate.url ??= healthUrl(inventory, service, node?.address)
  // Probed from `starting` (container up, Docker's healthcheck pending) so a failing task's answers are
  // on record even when Swarm stops it first; its deadline runs from then, like Docker's start_period,
  // not from when Swarm scheduled it (a task waiting for its node's host port to be freed is not slow).
  if (!gate.url || (task.state !== 'running' && task.state !== 'starting') || gate.verdict.state === 'failed') return
  if (gate.probes.length === 0) gate.startedAt = Date.now()
  gate.probes.push(await probeHealth(gate.url, health.timeoutMs))
  if (gate.probes.length > MAX_PROBES_KEPT) gate.probes.splice(0, gate.probes.length - MAX_PROBES_KEPT)
}

/** The report of one gate: node, verdict and the last answers. */
export function describeGate(gate: TaskGate): {task: string; node?: string; url?: string; verdict: string; secondsToPass?: number; lastAnswers: string[]} {
  const verdict =
    gate.verdict.state === 'failed'
      ? `failed: ${gate.verdict.reason}`
      : gate.verdict.state === 'passed'
        ? `passed (healthy for ${Math.round(gate.verdict.healthyForMs / 100) / 10}s)`
        : 'pending'
  const secondsToPass = gate.passedAt === undefined ? undefined : Math.round((gate.passedAt - gate.startedAt) / 100) / 10
  return {task: gate.task.slice(0, 12), node: gate.node, url: gate.url, verdict, secondsToPass, lastAnswers: lastAnswers(gate.probes)}
}
