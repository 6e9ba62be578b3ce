import type {InventoryNode} from '../inventory/schema/index.js'
import type {ComposeService} from './compose.js'

/**
 * Host-mode ports and start-first updates: two tasks of one service cannot bind the same host port on
 * one node, so a start-first update needs a free eligible node for each new task it starts before an
 * old one stops. With `parallelism` tasks replaced at a time, that is replicas + parallelism nodes.
 */

/** Whether a node satisfies one Swarm placement constraint; unknown kinds are taken as satisfied. */
export function nodeMatchesConstraint(node: InventoryNode, constraint: string): boolean {
  const m = /^\s*node\.(labels\.([A-Za-z0-9_.-]+)|role|hostname)\s*(==|!=)\s*(\S+)\s*$/.exec(constraint)
  if (!m) return true
  const [, field, labelKey, op, expected] = m
  const actual = labelKey !== undefined ? node.labels[labelKey] : field === 'role' ? node.role : node.name
  return op === '==' ? actual === expected : actual !== expected
}

/** The inventory nodes a service may run on: swarm members matching every constraint. */
export function eligibleNodes(nodes: readonly InventoryNode[], constraints: readonly string[]): InventoryNode[] {
  return nodes.filter((n) => n.role !== 'none' && constraints.every((c) => nodeMatchesConstraint(n, c)))
}

export interface CapacityVerdict {
  ok: boolean
  eligible: string[]
  needed: number
  reason?: string
}

/** Refuses a start-first rollout of a host-mode service that would wait forever for a free node. */
export function checkHostModeCapacity(
  compose: ComposeService,
  rollout: {order: 'start-first' | 'stop-first'; parallelism: number},
  nodes: readonly InventoryNode[],
): CapacityVerdict {
  const eligible = eligibleNodes(nodes, compose.constraints).map((n) => n.name)
  const replicas = compose.replicas ?? 1
  if (compose.hostPorts.length === 0) return {ok: true, eligible, needed: replicas}
  const needed = rollout.order === 'start-first' ? replicas + rollout.parallelism : replicas
  if (eligible.length >= needed) return {ok: true, eligible, needed}
  const reason =
    rollout.order === 'start-first'
      ? `publishes host port(s) ${compose.hostPorts.join(', ')} with ${replicas} replica(s) and start-first updates of ${rollout.parallelism} at a time: that needs ${needed} eligible nodes, only ${eligible.length} match (${eligible.join(', ') || 'none'})`
      : `publishes host port(s) ${compose.hostPorts.join(', ')} with ${replicas} replica(s) but only ${eligible.length} node(s) are eligible`
  return {ok: false, eligible, needed, reason}
}
