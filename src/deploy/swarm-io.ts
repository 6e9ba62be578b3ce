import {engineCall} from '../docker/index.js'
import type {Inventory, InventoryNode} from '../inventory/schema/index.js'
import {listSwarmNodes, type ManagerHandle} from '../swarm/cluster.js'
import {findSwarmNode} from '../swarm/match.js'
import {parseServiceJson, serviceImages, type ServiceView} from './swarm-state.js'

/** Reads what a deploy needs from the swarm, through the Engine API of a manager (src/docker). */

/** A service and all its tasks (history included), as the rollout decision reads them. */
export async function readService(manager: ManagerHandle, name: string): Promise<ServiceView> {
  const service = await engineCall(manager.node, `inspect service ${name}`, () => manager.docker.getService(name).inspect(), 20_000)
  const tasks = await engineCall(manager.node, `list tasks of ${name}`, () => manager.docker.listTasks({filters: {service: [name]}}), 20_000)
  return parseServiceJson(service as Record<string, any>, tasks as Record<string, any>[])
}

export async function serviceExists(manager: ManagerHandle, name: string): Promise<boolean> {
  const found = await engineCall(manager.node, 'list services', () => manager.docker.listServices({filters: {name: [name]}}), 20_000)
  return found.some((s) => (s as Record<string, any>).Spec?.Name === name)
}

/** Swarm service name → current image, for the services of these stacks. */
export async function runningImages(manager: ManagerHandle, stacks: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const stack of stacks) {
    const services = await engineCall(
      manager.node,
      `list services of stack ${stack}`,
      () => manager.docker.listServices({filters: {label: [`com.docker.stack.namespace=${stack}`]}}),
      20_000,
    )
    Object.assign(out, serviceImages(services as Record<string, any>[]))
  }
  return out
}

/** Swarm node id → inventory node, matched by address (lab hosts share one hostname). */
export async function inventoryNodesById(manager: ManagerHandle, inventory: Inventory): Promise<Map<string, InventoryNode>> {
  const swarmNodes = await listSwarmNodes(manager)
  const map = new Map<string, InventoryNode>()
  for (const node of inventory.nodes) {
    const found = findSwarmNode(node, swarmNodes)
    if (found) map.set(found.id, node)
  }
  return map
}

type Json = Record<string, any>

/** The label ctl changes to restart Swarm's updater on the slots left (see ROLLOUT_HOLD). */
const STEP_LABEL = 'ctl.rollout-step'

/** A service's spec and its version (an update must name the version it changes). */
export async function readServiceSpec(manager: ManagerHandle, name: string): Promise<{version: number; spec: Json}> {
  const service = (await engineCall(manager.node, `inspect service ${name}`, () => manager.docker.getService(name).inspect(), 20_000)) as Json
  return {version: service.Version?.Index, spec: service.Spec}
}

/**
 * Updates a service's spec through the Engine API: `change` gets the spec as it is now and returns
 * the new one, which always carries a fresh step label (an update Swarm sees as a change). Retried
 * when Swarm changed the service meanwhile (its version moved on).
 */
export async function updateServiceSpec(manager: ManagerHandle, name: string, step: string, change: (spec: Json) => Json): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const {version, spec} = await readServiceSpec(manager, name)
    const next = change(structuredClone(spec))
    next.Labels = {...next.Labels, [STEP_LABEL]: `${Date.now()}`}
    try {
      await engineCall(manager.node, step, () => manager.docker.getService(name).update({_query: {version}, _body: next} as object), 20_000)
      return
    } catch (error) {
      if (attempt >= 5 || !/out of sequence|version/i.test((error as Error).message)) throw error
    }
  }
}
