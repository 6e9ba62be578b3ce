import type Docker from 'dockerode'
import {engineApi, engineCall} from '../docker/index.js'
import {CtlError, ExitCode, toCtlError} from '../lib/errors.js'
import type {Inventory, InventoryNode} from '../inventory/schema/index.js'
import type {SshPool} from '../ssh/pool.js'
import {hostProbeCommand, parseHostProbe} from './host-facts.js'
import type {NodeFacts} from './bootstrap-plan.js'
import {findSwarmNode} from './match.js'
import {toEngineFacts, toService, toSwarmNode, toTask, type ServiceView, type SwarmNodeView, type TaskView} from './views.js'

/**
 * Reading swarm state through the Engine API of the inventory's nodes. Every call goes through
 * src/docker (dockerode over the SSH pool); the results are the typed views of views.ts.
 */

/** Everything bootstrap needs to know about one node; never throws (an unreachable node is a fact). */
export async function gatherNodeFacts(pool: SshPool, node: InventoryNode): Promise<NodeFacts> {
  let probeOut: string
  try {
    probeOut = (await pool.run(node, hostProbeCommand(), {check: true, step: 'probe host', timeoutMs: 20_000})).stdout
  } catch (error) {
    return {node: node.name, reachable: false, error: toCtlError(error).message}
  }
  const facts: NodeFacts = {node: node.name, reachable: true, probe: parseHostProbe(probeOut)}
  const docker = engineApi(pool, node)
  try {
    const [info, version] = await Promise.all([
      engineCall(node, 'engine info', () => docker.info()),
      engineCall(node, 'engine version', () => docker.version()),
    ])
    facts.engine = toEngineFacts(info, version as unknown as Record<string, unknown>)
  } catch (error) {
    facts.engineError = toCtlError(error).message
    return facts
  }
  if (facts.engine.swarm.state === 'active' && facts.engine.swarm.isManager) {
    try {
      facts.clusterNodes = (await engineCall(node, 'list swarm nodes', () => docker.listNodes())).map(toSwarmNode)
    } catch (error) {
      facts.engineError = toCtlError(error).message
    }
  }
  return facts
}

export interface ManagerHandle {
  node: InventoryNode
  docker: Docker
}

/**
 * A manager to talk to: the inventory's managers in order, first one whose engine answers swarm
 * calls; the leader is preferred when it is in the inventory and reachable.
 */
export async function connectManager(pool: SshPool, inventory: Inventory): Promise<ManagerHandle> {
  const managers = inventory.nodes.filter((n) => n.role === 'manager')
  const tried: string[] = []
  for (const node of managers) {
    const docker = engineApi(pool, node)
    try {
      const nodes = (await engineCall(node, 'list swarm nodes', () => docker.listNodes(), 20_000)).map(toSwarmNode)
      const leader = nodes.find((n) => n.leader)
      const leaderNode = leader && managers.find((m) => m !== node && findSwarmNode(m, nodes)?.id === leader.id)
      if (leaderNode) {
        const leaderDocker = engineApi(pool, leaderNode)
        const answers = await engineCall(leaderNode, 'list swarm nodes', () => leaderDocker.listNodes(), 20_000).then(
          () => true,
          () => false,
        )
        if (answers) return {node: leaderNode, docker: leaderDocker}
      }
      return {node, docker}
    } catch (error) {
      tried.push(`${node.name}: ${toCtlError(error).message}`)
    }
  }
  throw new CtlError(`No manager of the swarm answers (${tried.join('; ') || 'the inventory names no manager'})`, {
    exitCode: ExitCode.cannotRun,
    code: 'swarm.no-manager',
    hint: `Is the swarm formed? \`ctl node bootstrap ${inventory.name}\` creates it; \`ctl node ls ${inventory.name}\` shows the nodes.`,
  })
}

export async function listSwarmNodes(manager: ManagerHandle): Promise<SwarmNodeView[]> {
  return (await engineCall(manager.node, 'list swarm nodes', () => manager.docker.listNodes())).map(toSwarmNode)
}

export async function listServices(manager: ManagerHandle): Promise<ServiceView[]> {
  return (await engineCall(manager.node, 'list services', () => manager.docker.listServices())).map((s) => toService(s as unknown as Record<string, unknown>))
}

export async function listTasks(manager: ManagerHandle, filters: Record<string, string[]> = {}): Promise<TaskView[]> {
  return (await engineCall(manager.node, 'list tasks', () => manager.docker.listTasks({filters}))).map(toTask)
}

/** Sends a node's spec back with changes; `version` guards against concurrent edits. */
export async function updateSwarmNode(manager: ManagerHandle, view: SwarmNodeView, change: Record<string, unknown>, step: string): Promise<void> {
  const target = manager.docker.getNode(view.id)
  await engineCall(manager.node, step, () => target.update({_query: {version: view.version}, _body: {...view.spec, ...change}} as object))
}
