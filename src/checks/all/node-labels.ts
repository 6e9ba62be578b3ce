import type {Inventory} from '../../inventory/schema/index.js'
import {listSwarmNodes} from '../../swarm/cluster.js'
import {describeLabelChange, planLabelChanges} from '../../swarm/labels.js'
import type {SwarmNodeView} from '../../swarm/views.js'
import {isSwarmNode} from '../targets.js'
import type {CheckDefinition, Finding} from '../types.js'
import {reachableManager} from './swarm.js'

/** Each Swarm node's managed labels as the inventory says (the same diff `ctl node label` applies). */
export function judgeNodeLabels(inventory: Inventory, swarm: readonly SwarmNodeView[]): Finding[] {
  return planLabelChanges(inventory, swarm).map((plan) => {
    if (!plan.swarmNodeId)
      return {target: plan.node, status: 'fail', detail: 'not in the swarm: labels cannot be read', hint: `ctl node bootstrap ${inventory.name}`}
    if (plan.changes.length > 0)
      return {
        target: plan.node,
        status: 'fail',
        detail: `drift: ${plan.changes.map(describeLabelChange).join(', ')}`,
        hint: `ctl node label ${inventory.name} shows and applies the inventory's labels.`,
      }
    const labels = inventory.nodes.find((n) => n.name === plan.node)?.labels ?? {}
    const shown = Object.entries(labels).map(([k, v]) => `${k}=${v}`)
    return {target: plan.node, status: 'pass', detail: shown.length > 0 ? shown.join(', ') : 'no managed labels'}
  })
}

export const nodeLabelsCheck: CheckDefinition = {
  id: 'node-labels',
  title: 'Node labels as in the inventory',
  needs: 'SSH, Engine API of a manager',
  targets: (inventory) => (inventory.nodes.some(isSwarmNode) ? [{name: 'swarm'}] : []),
  skipReason: 'no Swarm nodes in the inventory',
  async run(ctx) {
    return judgeNodeLabels(ctx.inventory, await listSwarmNodes(await reachableManager(ctx)))
  },
}
