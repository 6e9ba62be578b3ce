import type {Inventory, InventoryNode, InventoryService} from '../inventory/schema/index.js'
import type {ManagerHandle} from '../swarm/cluster.js'
import {decideRollback, decideRollout, type RolloutDecision} from './decide.js'
import {evaluateGate, lastAnswers, probeHealth, type GateVerdict, type Probe} from './gate.js'
import {healthUrl} from './health-url.js'
import {readService} from './swarm-io.js'
import type {ServiceView, TaskView} from './swarm-state.js'

/**
 * Follows one service while Swarm rolls it (or rolls it back) and runs ctl's /health gate on every
 * task of the new spec: probes from the operator's machine every `intervalMs`, reads Swarm's view
 * every second, and returns as soon as the pure decision says done or failed.
 */

export interface TaskGate {
  task: string
  node?: string
  url?: string
  startedAt: number
  /** When the gate passed: startedAt → passedAt is the time one task took to start and pass. */
  passedAt?: number
  probes: Probe[]
  verdict: GateVerdict
}

export interface WatchOutcome {
  decision: Exclude<RolloutDecision, {kind: 'waiting'}>
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
}

const MAX_PROBES_KEPT = 50

export async function watchService(options: WatchOptions): Promise<WatchOutcome> {
  const {manager, inventory, service, swarmName, nodesById, phase} = options
  const health = service.health!
  const started = Date.now()
  const gates = new Map<string, TaskGate>()
  const before = options.before ?? new Set<string>()
  let view = await readService(manager, swarmName)
  let lastRead = Date.now()
  let lastReport = ''
  for (;;) {
    const now = Date.now()
    if (now - lastRead >= 1000) {
      view = await readService(manager, swarmName)
      lastRead = Date.now()
    }
    const tasks = view.tasks.filter((t) => t.current && t.desiredState === 'running' && !before.has(t.id))
    await Promise.all(tasks.map((task) => probeTask(gates, task, inventory, service, nodesById)))
    const verdicts = new Map<string, GateVerdict>()
    for (const gate of gates.values()) {
      const wasPending = gate.verdict.state === 'pending'
      gate.verdict = evaluateGate(gate.probes, gate.startedAt, Date.now(), health)
      if (wasPending && gate.verdict.state === 'passed') gate.passedAt = Date.now()
      verdicts.set(gate.task, gate.verdict)
    }
    const decision = phase === 'rollout' ? decideRollout(view, verdicts, options.before) : decideRollback(view, verdicts)
    if (decision.kind !== 'waiting') return {decision, view, gates: [...gates.values()], durationMs: Date.now() - started}
    const progress = `${phase === 'rollout' ? 'rolling' : 'rolling back'} ${swarmName}: ${decision.healthy}/${decision.wanted} task(s) passed the gate${view.updateState ? ` (swarm: ${view.updateState})` : ''}`
    if (progress !== lastReport) options.report?.((lastReport = progress))
    if (Date.now() - started > options.timeoutMs) {
      return {
        decision: {kind: 'failed', reason: `${phase} of ${swarmName} did not finish within ${Math.round(options.timeoutMs / 1000)} s (${decision.healthy}/${decision.wanted} healthy, swarm: ${view.updateState ?? 'no update'})`, swarmRollingBack: view.updateState?.startsWith('rollback') ?? false},
        view,
        gates: [...gates.values()],
        durationMs: Date.now() - started,
      }
    }
    await new Promise((resolve) => setTimeout(resolve, health.intervalMs))
  }
}

async function probeTask(gates: Map<string, TaskGate>, task: TaskView, inventory: Inventory, service: InventoryService, nodesById: ReadonlyMap<string, InventoryNode>): Promise<void> {
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
  // on record even when Swarm stops it first; its deadline runs from when it was first seen.
  if (!gate.url || (task.state !== 'running' && task.state !== 'starting') || gate.verdict.state !== 'pending') return
  gate.probes.push(await probeHealth(gate.url, health.timeoutMs))
  if (gate.probes.length > MAX_PROBES_KEPT) gate.probes.splice(0, gate.probes.length - MAX_PROBES_KEPT)
}

/** The report of one gate: node, verdict and the last answers. */
export function describeGate(gate: TaskGate): {task: string; node?: string; url?: string; verdict: string; secondsToPass?: number; lastAnswers: string[]} {
  const verdict = gate.verdict.state === 'failed' ? `failed: ${gate.verdict.reason}` : gate.verdict.state === 'passed' ? `passed (healthy for ${Math.round(gate.verdict.healthyForMs / 100) / 10}s)` : 'pending'
  const secondsToPass = gate.passedAt === undefined ? undefined : Math.round((gate.passedAt - gate.startedAt) / 100) / 10
  return {task: gate.task.slice(0, 12), node: gate.node, url: gate.url, verdict, secondsToPass, lastAnswers: lastAnswers(gate.probes)}
}
