import type {Inventory, InventoryNode} from '../inventory/schema/index.js'
import {findSwarmNode} from './match.js'
import type {SwarmNodeView} from './views.js'

/** The label keys ctl owns: `swarm.managedLabelKeys`, else every key the inventory's nodes use. */
export function managedLabelKeys(inventory: Inventory): string[] {
  if (inventory.swarm.managedLabelKeys) return [...inventory.swarm.managedLabelKeys]
  return [...new Set(inventory.nodes.filter((n) => n.role !== 'none').flatMap((n) => Object.keys(n.labels)))].sort()
}

export interface LabelChange {
  key: string
  action: 'add' | 'change' | 'remove'
  from?: string
  to?: string
}

export interface NodeLabelPlan {
  node: string
  /** Absent when the node is not in the swarm: nothing can be labelled there. */
  swarmNodeId?: string
  changes: LabelChange[]
  /** The node's full label set after the changes (unmanaged labels kept as they are). */
  labelsAfter: Record<string, string>
}

/**
 * The diff between the inventory's labels and the swarm's, limited to managed keys: labels with
 * other keys (set by hand or by other tools) are never touched.
 */
export function planLabelChanges(inventory: Inventory, swarmNodes: readonly SwarmNodeView[]): NodeLabelPlan[] {
  const managed = new Set(managedLabelKeys(inventory))
  return inventory.nodes
    .filter((n) => n.role !== 'none')
    .map((node) => {
      const view = findSwarmNode(node, swarmNodes)
      if (!view) return {node: node.name, changes: [], labelsAfter: {}}
      const changes = labelDiff(wantedLabels(node, managed), view.labels, managed)
      const labelsAfter = {...view.labels}
      for (const c of changes) {
        if (c.action === 'remove') delete labelsAfter[c.key]
        else labelsAfter[c.key] = c.to!
      }
      return {node: node.name, swarmNodeId: view.id, changes, labelsAfter}
    })
}

function wantedLabels(node: InventoryNode, managed: ReadonlySet<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(node.labels).filter(([k]) => managed.has(k)))
}

/** add / change / remove, in key order, for managed keys only. */
export function labelDiff(wanted: Record<string, string>, actual: Record<string, string>, managed: ReadonlySet<string>): LabelChange[] {
  const changes: LabelChange[] = []
  for (const key of [...managed].sort()) {
    const want = wanted[key]
    const have = actual[key]
    if (want !== undefined && have === undefined) changes.push({key, action: 'add', to: want})
    else if (want !== undefined && have !== want) changes.push({key, action: 'change', from: have, to: want})
    else if (want === undefined && have !== undefined) changes.push({key, action: 'remove', from: have})
  }
  return changes
}

export function describeLabelChange(c: LabelChange): string {
  if (c.action === 'add') return `+ ${c.key}=${c.to}`
  if (c.action === 'remove') return `- ${c.key}=${c.from}`
  return `~ ${c.key}: ${c.from} → ${c.to}`
}
