import {CtlError, ExitCode} from '../lib/errors.js'
import {matchConstraints, type PlacementTarget} from './constraints.js'
import type {ServiceView, SwarmNodeView, TaskView} from './views.js'

/**
 * Draining a node: which of its tasks the scheduler can move, which it cannot (and why), and, while
 * waiting, whether the moves are done. All pure: the command polls the manager and asks these.
 */

/** A task counts as on a node while it is meant to run there and has not stopped. */
const ACTIVE_STATES = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running'])
const isLive = (t: TaskView) => t.desiredState === 'running' && ACTIVE_STATES.has(t.state)

export interface ServiceOnNode {
  service: string
  serviceId: string
  tasks: number
}

export interface DrainPrediction {
  /** Replicated services whose tasks the scheduler can start elsewhere. */
  moves: (ServiceOnNode & {to: string[]})[]
  /** Replicated services with no other node to go to. */
  cannotMove: (ServiceOnNode & {reason: string})[]
  /** Global services: their task here just stops (they run one per node). */
  stops: ServiceOnNode[]
}

function asTarget(n: SwarmNodeView): PlacementTarget {
  return {name: n.hostname, hostname: n.hostname, role: n.role, labels: n.labels, id: n.id}
}

/** Tasks running on `node` grouped by service, in service-name order. */
export function servicesOnNode(nodeId: string, services: readonly ServiceView[], tasks: readonly TaskView[]): (ServiceOnNode & {view: ServiceView})[] {
  const counts = new Map<string, number>()
  for (const t of tasks.filter((t) => t.nodeId === nodeId && isLive(t))) counts.set(t.serviceId, (counts.get(t.serviceId) ?? 0) + 1)
  return services
    .filter((s) => counts.has(s.id))
    .map((s) => ({service: s.name, serviceId: s.id, tasks: counts.get(s.id)!, view: s}))
    .sort((a, b) => a.service.localeCompare(b.service))
}

/** What draining `node` will do, from the live swarm. */
export function predictDrain(
  node: SwarmNodeView,
  nodes: readonly SwarmNodeView[],
  services: readonly ServiceView[],
  tasks: readonly TaskView[],
): DrainPrediction {
  const prediction: DrainPrediction = {moves: [], cannotMove: [], stops: []}
  const others = nodes.filter((n) => n.id !== node.id && n.state === 'ready' && n.availability === 'active')
  for (const {view, ...entry} of servicesOnNode(node.id, services, tasks)) {
    if (view.mode === 'global') {
      prediction.stops.push(entry)
      continue
    }
    const allowed = others.filter((n) => matchConstraints(view.constraints, asTarget(n)).matches !== false)
    if (allowed.length === 0) {
      const reason =
        others.length === 0
          ? 'no other node is ready and active'
          : view.constraints.length
            ? `constraints [${view.constraints.join(', ')}] match no other active node`
            : 'no other node can take it'
      prediction.cannotMove.push({...entry, reason})
      continue
    }
    // One task per node when it publishes host-mode ports or is limited per node.
    const perNode = view.hostPorts.length > 0 ? 1 : view.maxReplicasPerNode
    if (perNode) {
      const free = allowed.filter((n) => tasks.filter((t) => t.serviceId === view.id && t.nodeId === n.id && isLive(t)).length < perNode)
      if (free.length === 0) {
        const why =
          view.hostPorts.length > 0
            ? `host-mode port ${view.hostPorts.join(', ')} is already taken on every other matching node`
            : `max ${perNode} replica(s) per node already reached on every other matching node`
        prediction.cannotMove.push({...entry, reason: why})
        continue
      }
      prediction.moves.push({...entry, to: free.map((n) => n.hostname)})
      continue
    }
    prediction.moves.push({...entry, to: allowed.map((n) => n.hostname)})
  }
  return prediction
}

export interface DrainProgress {
  /** Every moved service runs its replicas elsewhere and nothing runs on the node any more. */
  done: boolean
  /** Services whose replicas are not all running elsewhere yet. */
  waiting: {service: string; running: number; wanted: number; onNode: number; reason?: string}[]
  /** Services whose tasks the scheduler reports it cannot place ("no suitable node ..."). */
  cannotMove: {service: string; reason: string}[]
}

/** Where the drain of `nodeId` stands, for the services that had tasks there when it began. */
export function assessDrain(nodeId: string, moving: readonly ServiceView[], tasks: readonly TaskView[]): DrainProgress {
  const progress: DrainProgress = {done: true, waiting: [], cannotMove: []}
  for (const service of moving) {
    const own = tasks.filter((t) => t.serviceId === service.id)
    const onNode = own.filter((t) => t.nodeId === nodeId && isLive(t)).length
    if (service.mode === 'global') {
      if (onNode > 0) {
        progress.done = false
        progress.waiting.push({service: service.name, running: 0, wanted: 0, onNode})
      }
      continue
    }
    const running = own.filter((t) => t.nodeId !== nodeId && t.desiredState === 'running' && t.state === 'running').length
    const wanted = service.replicas ?? 0
    if (running >= wanted && onNode === 0) continue
    progress.done = false
    const stuck = own.find((t) => t.desiredState === 'running' && t.state === 'pending' && t.error)
    if (stuck) progress.cannotMove.push({service: service.name, reason: stuck.error!})
    else progress.waiting.push({service: service.name, running, wanted, onNode})
  }
  return progress
}

/**
 * Whether a drain may start: draining a node where some task has nowhere else to go leaves its
 * service short, so that is refused (nothing changed) unless `--force` says to drain anyway. A node
 * drained already is only being waited on. Returns the refusal, or undefined to go ahead.
 */
export function drainRefusal(nodeName: string, prediction: DrainPrediction, options: {wasDrained: boolean; force: boolean}): CtlError | undefined {
  if (options.wasDrained || options.force || prediction.cannotMove.length === 0) return undefined
  const stuck = prediction.cannotMove
  return new CtlError(
    `Draining ${nodeName} would leave ${stuck.map((c) => c.service).join(', ')} without a node to run on:\n${stuck.map((c) => `- ${c.service}: ${c.reason}`).join('\n')}\nNothing was changed.`,
    {
      host: nodeName,
      step: 'predict drain',
      exitCode: ExitCode.cannotRun,
      code: 'swarm.drain-stuck',
      hint: 'Relax the placement or add a matching node first; --force drains anyway (those services run short until the node is back).',
    },
  )
}
