import type {InventoryNode} from '../inventory/schema/index.js'
import type {SwarmNodeView} from './views.js'

/**
 * Which swarm node is this inventory node: the same address (Status.Addr or the manager address),
 * else the same hostname when only one node has it.
 */
export function findSwarmNode(node: InventoryNode, all: readonly SwarmNodeView[]): SwarmNodeView | undefined {
  const host = (addr?: string) => addr?.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
  const byAddress = all.filter((v) => v.address === node.address || host(v.managerAddress) === node.address)
  // A node that left and rejoined stays listed as "down" with the same address: prefer the live one.
  const live = byAddress.filter((v) => v.state !== 'down')
  if (live.length === 1) return live[0]
  if (byAddress.length === 1) return byAddress[0]
  const byName = all.filter((v) => v.hostname === node.name)
  return byName.length === 1 ? byName[0] : undefined
}
