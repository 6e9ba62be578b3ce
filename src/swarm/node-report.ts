import type {Inventory} from '../inventory/schema/index.js'
import {versionAtLeast} from './host-facts.js'
import {describeLabelChange, labelDiff, managedLabelKeys} from './labels.js'
import {findSwarmNode} from './match.js'
import type {SwarmNodeView} from './views.js'

export interface NodeRow {
  /** The inventory name, or the swarm hostname of a node the inventory does not know. */
  name: string
  inInventory: boolean
  address?: string
  inventoryRole?: 'manager' | 'worker' | 'none'
  swarmNodeId?: string
  role?: 'manager' | 'worker'
  status?: string
  availability?: string
  leader: boolean
  managerReachability?: string
  engineVersion?: string
  labels: Record<string, string>
  /** What differs from the inventory (or from a healthy node); empty when all is as it should be. */
  drift: string[]
}

/** The inventory against the swarm, node by node, with drift marked. Pure. */
export function compareNodes(inventory: Inventory, swarmNodes: readonly SwarmNodeView[]): NodeRow[] {
  const managed = new Set(managedLabelKeys(inventory))
  const seen = new Set<string>()
  const rows: NodeRow[] = inventory.nodes.map((node) => {
    const view = node.role === 'none' ? undefined : findSwarmNode(node, swarmNodes)
    const base = {name: node.name, inInventory: true, address: node.address, inventoryRole: node.role, leader: false, labels: {}}
    if (!view) return {...base, drift: node.role === 'none' ? [] : ['not in the swarm']}
    seen.add(view.id)
    const drift: string[] = []
    if (view.role !== node.role) drift.push(`role ${view.role}, inventory says ${node.role}`)
    if (view.state !== 'ready') drift.push(`status ${view.state}`)
    if (view.availability !== 'active') drift.push(`availability ${view.availability}`)
    if (view.role === 'manager' && view.reachability && view.reachability !== 'reachable') drift.push(`manager ${view.reachability}`)
    if (view.engineVersion && !versionAtLeast(view.engineVersion, inventory.swarm.minEngineVersion))
      drift.push(`Engine older than ${inventory.swarm.minEngineVersion}`)
    const wanted = Object.fromEntries(Object.entries(node.labels).filter(([k]) => managed.has(k)))
    drift.push(...labelDiff(wanted, view.labels, managed).map((c) => `label ${describeLabelChange(c)}`))
    return {...base, ...liveFields(view), drift}
  })
  for (const view of swarmNodes.filter((v) => !seen.has(v.id))) {
    rows.push({
      name: view.hostname || view.id.slice(0, 12),
      inInventory: false,
      address: view.address,
      ...liveFields(view),
      drift: [
        view.state === 'down'
          ? 'not in the inventory (down: the old entry of a node that left or was rebuilt? `ctl node bootstrap` removes it once the node is back)'
          : 'not in the inventory',
      ],
    })
  }
  return rows
}

function liveFields(view: SwarmNodeView) {
  return {
    swarmNodeId: view.id,
    role: view.role,
    status: view.state,
    availability: view.availability,
    leader: view.leader,
    managerReachability: view.reachability,
    engineVersion: view.engineVersion,
    labels: view.labels,
  }
}
