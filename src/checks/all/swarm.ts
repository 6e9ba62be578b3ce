import type {Inventory, InventoryNode} from '../../inventory/schema/index.js'
import {connectManager, listSwarmNodes} from '../../swarm/cluster.js'
import {findSwarmNode} from '../../swarm/match.js'
import type {SwarmNodeView} from '../../swarm/views.js'
import {cannotRun} from '../remote-errors.js'
import {isSwarmNode} from '../targets.js'
import type {CheckContext, CheckDefinition, Finding} from '../types.js'

/** Each inventory node Ready, Active and in its role; the managers an odd, reachable quorum with a leader. */
export function judgeSwarm(env: string, nodes: readonly InventoryNode[], swarm: readonly SwarmNodeView[]): Finding[] {
  const findings: Finding[] = nodes.map((node) => {
    const view = findSwarmNode(node, swarm)
    if (!view) return {target: node.name, status: 'fail', detail: 'not a member of the swarm', hint: `Join it: ctl node bootstrap ${env}`}
    if (view.state !== 'ready')
      return {
        target: node.name,
        status: 'fail',
        detail: `state ${view.state} (not Ready)`,
        hint: `Is dockerd running on ${node.name} and can it reach the managers? ctl node ls ${env}`,
      }
    if (view.availability !== 'active')
      return {
        target: node.name,
        status: 'fail',
        detail: `availability ${view.availability} (not Active)`,
        hint: `Bring it back after maintenance: ctl node activate ${env} ${node.name}`,
      }
    if (view.role !== node.role)
      return {
        target: node.name,
        status: 'warn',
        detail: `Ready and Active, but a ${view.role} where the inventory says ${node.role}`,
        hint: `ctl node bootstrap ${env} promotes or demotes it.`,
      }
    return {target: node.name, status: 'pass', detail: `Ready, Active, ${view.role}${view.leader ? ' (leader)' : ''}`}
  })
  const strangers = swarm.filter((v) => v.state !== 'down' && !nodes.some((n) => findSwarmNode(n, swarm)?.id === v.id))
  for (const v of strangers)
    findings.push({
      target: v.hostname || v.id,
      status: 'warn',
      detail: `in the swarm (${v.address}) but not in the inventory`,
      hint: 'Add it to the inventory, or remove it from the swarm.',
    })
  const managers = swarm.filter((v) => v.role === 'manager')
  const reachable = managers.filter((v) => v.reachability === 'reachable')
  const leader = managers.find((v) => v.leader)
  const quorum = `${reachable.length} of ${managers.length} managers reachable`
  if (!leader)
    findings.push({
      target: 'managers',
      status: 'fail',
      detail: `${quorum}, no leader`,
      hint: `The managers lost quorum: bring managers back, or as a last resort \`docker swarm init --force-new-cluster\` on one (see ctl node ls ${env}).`,
    })
  else if (reachable.length % 2 === 0)
    findings.push({
      target: 'managers',
      status: 'fail',
      detail: `${quorum}: an even number cannot outvote a split`,
      hint: 'Run an odd number of managers (1, 3 or 5); bring the unreachable one back or demote one.',
    })
  else findings.push({target: 'managers', status: 'pass', detail: `${quorum}, leader ${leader.hostname || leader.id}`})
  return findings
}

/** A manager that answers, among the nodes the ssh check could reach (a down one would cost a connect timeout). */
export async function reachableManager(ctx: CheckContext) {
  const inventory: Inventory = {...ctx.inventory, nodes: ctx.inventory.nodes.filter((n) => ctx.isReachable(n))}
  if (!inventory.nodes.some((n) => n.role === 'manager'))
    throw cannotRun('no manager is reachable over SSH', {hint: 'See the ssh check; the swarm can only be read through a manager.'})
  return connectManager(ctx.pool, inventory)
}

export const swarmCheck: CheckDefinition = {
  id: 'swarm',
  title: 'Swarm: nodes Ready and Active, odd reachable managers, a leader',
  needs: 'SSH, Engine API of a manager',
  targets: (inventory) => (inventory.nodes.some(isSwarmNode) ? [{name: 'swarm'}] : []),
  skipReason: 'no Swarm nodes in the inventory',
  async run(ctx) {
    const swarm = await listSwarmNodes(await reachableManager(ctx))
    return judgeSwarm(ctx.inventory.name, ctx.inventory.nodes.filter(isSwarmNode), swarm)
  },
}
