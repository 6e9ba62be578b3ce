import type {InventoryNode} from '../inventory/schema/index.js'
import type {SwarmNodeView} from './views.js'

/**
 * Which swarm node is this inventory node: the same address or advertise address (Status.Addr or
 * the manager address), else the same hostname when only one node has it.
 */
export function findSwarmNode(node: InventoryNode, all: readonly SwarmNodeView[]): SwarmNodeView | undefined {
  const host = (addr?: string) => addr?.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
  const addresses = new Set([node.address, node.advertiseAddress].filter(Boolean))
  const byAddress = all.filter((v) => addresses.has(v.address) || addresses.has(host(v.managerAddress) ?? ''))
  // A node that left and rejoined stays listed as "down" with the same address: prefer the live one.
  const live = byAddress.filter((v) => v.state !== 'down')
  if (live.length === 1) return live[0]
  if (byAddress.length === 1) return byAddress[0]
  const byName = all.filter((v) => v.hostname === node.name)
  return byName.length === 1 ? byName[0] : undefined
}
