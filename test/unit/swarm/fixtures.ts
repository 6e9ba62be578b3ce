import {inventorySchema, type Inventory} from '../../../src/inventory/schema/index.js'
import type {NodeFacts} from '../../../src/swarm/bootstrap-plan.js'
import type {SwarmNodeView} from '../../../src/swarm/views.js'

/** An inventory of nodes given as `name:role` (addresses 10.0.0.1, .2, ...), labels type=service. */
export function inventoryOf(spec: string[], extra: Record<string, unknown> = {}): Inventory {
  return inventorySchema.parse({
    name: 't',
    nodes: spec.map((s, i) => {
      const [name, role = 'worker', type = 'service'] = s.split(':')
      return {name, address: `10.0.0.${i + 1}`, role, labels: {type}}
    }),
    ...extra,
  })
}

const debian = {id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)', family: ['debian']}

/** A reachable Debian host with Engine 20.10 outside any swarm. */
export function freshFacts(node: string): NodeFacts {
  return {
    node,
    reachable: true,
    probe: {os: debian, dockerInstalled: true},
    engine: {version: '20.10.24+dfsg1', swarm: {state: 'inactive', isManager: false, remoteManagers: []}},
  }
}

export function swarmNode(id: string, address: string, role: 'manager' | 'worker', extra: Partial<SwarmNodeView> = {}): SwarmNodeView {
  return {
    id,
    hostname: id,
    address,
    managerAddress: role === 'manager' ? `${address}:2377` : undefined,
    role,
    availability: 'active',
    state: 'ready',
    leader: false,
    engineVersion: '20.10.24',
    labels: {},
    version: 10,
    spec: {Role: role, Availability: 'active', Labels: {}},
    ...extra,
  }
}

/** Facts of a node that is in cluster `cluster` with id `nodeId`; managers also see `clusterNodes`. */
export function inSwarm(node: string, nodeId: string, role: 'manager' | 'worker', cluster: string, clusterNodes: SwarmNodeView[] = []): NodeFacts {
  const base = freshFacts(node)
  return {
    ...base,
    engine: {
      version: '20.10.24+dfsg1',
      swarm: {
        state: 'active',
        nodeId,
        isManager: role === 'manager',
        clusterId: role === 'manager' ? cluster : undefined,
        remoteManagers: clusterNodes.filter((n) => n.role === 'manager').map((n) => ({nodeId: n.id, address: n.managerAddress!})),
      },
    },
    clusterNodes: role === 'manager' ? clusterNodes : undefined,
  }
}

export function factsMap(...facts: NodeFacts[]): Map<string, NodeFacts> {
  return new Map(facts.map((f) => [f.node, f]))
}
