import type {Inventory, InventoryNode} from '../inventory/schema/index.js'
import type {CheckTarget} from './types.js'

/** One target per node (optionally only those matching `keep`). */
export function nodeTargets(inventory: Inventory, keep: (node: InventoryNode) => boolean = () => true): CheckTarget[] {
  return inventory.nodes.filter(keep).map((node) => ({name: node.name, node}))
}

/** Nodes that are part of the Swarm (managers and workers). */
export function isSwarmNode(node: InventoryNode): boolean {
  return node.role !== 'none'
}

/** The node named `name`; checks only call this with names the schema already verified. */
export function nodeNamed(inventory: Inventory, name: string): InventoryNode {
  const node = inventory.nodes.find((n) => n.name === name)
  if (!node) throw new Error(`no node named ${name}`)
  return node
}
