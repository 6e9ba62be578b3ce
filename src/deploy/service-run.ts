import type {LoadedInventory} from '../inventory/load.js'
import type {InventoryService} from '../inventory/schema/index.js'
import {resolveDigests} from '../registry/resolve.js'
import {rollbackRefusal} from './decide.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {note} from '../lib/progress.js'
import type {SshPool} from '../ssh/pool.js'
import {connectManager, type ManagerHandle} from '../swarm/cluster.js'
import {heldUpdateConfig} from './compose.js'
import {swarmServiceName} from './plan.js'
import {chooseRollbackTarget} from './releases.js'
import {readReleases} from './releases-io.js'
import {followRollout, historicTasks, rollbackPoint, type ServiceOutcome} from './service-rollout.js'
import {inventoryNodesById, readService, serviceExists, updateServiceSpec} from './swarm-io.js'

/** The executors of `ctl reload` (Swarm strategy) and `ctl rollback`: one service, gated. */

/** The inventory service named on the command line. */
export function inventoryService(loaded: LoadedInventory, name: string): InventoryService {
  const service = loaded.inventory.services.find((s) => s.name === name)
  if (!service) {
    throw new CtlError(`No service named "${name}" in ${loaded.file}`, {
      exitCode: ExitCode.cannotRun,
      code: 'deploy.unknown-service',
      hint: `Known services: ${loaded.inventory.services.map((s) => s.name).join(', ') || 'none'}`,
    })
  }
  return service
}

/** A gated Swarm service that exists: what reload and rollback need first. */
async function openSwarmService(pool: SshPool, loaded: LoadedInventory, service: InventoryService, verb: string) {
  if (service.strategy !== 'swarm')
    throw new CtlError(`${verb} of "${service.name}": it is a hosts-strategy service`, {
      exitCode: ExitCode.cannotRun,
      hint: 'Hosts-strategy services are reloaded host by host with `ctl reload`; there is no Swarm spec to roll back.',
    })
  if (!service.health)
    throw new CtlError(`Service "${service.name}" has no health check in the inventory: ctl will not ${verb} it without a gate`, {
      exitCode: ExitCode.cannotRun,
      hint: 'Add `health:` (port, path) to the service.',
    })
  const manager = await connectManager(pool, loaded.inventory)
  const swarmName = swarmServiceName(service.stack!, service.name)
  if (!(await serviceExists(manager, swarmName))) {
    throw new CtlError(`Swarm service ${swarmName} does not exist`, {
      exitCode: ExitCode.cannotRun,
      host: manager.node.name,
      hint: `Deploy it first: ctl deploy ${loaded.env} --stack ${service.stack}`,
    })
  }
  const view = await readService(manager, swarmName)
  const nodesById = await inventoryNodesById(manager, loaded.inventory)
  return {manager, swarmName, view, ctx: {pool, manager, inventory: loaded.inventory, nodesById, report: note}}
}

/** A forced update (every task replaced, same image), batch by batch under the gate. */
export async function reloadSwarmService(pool: SshPool, loaded: LoadedInventory, service: InventoryService): Promise<ServiceOutcome> {
  const {manager, swarmName, view, ctx} = await openSwarmService(pool, loaded, service, 'reload')
  const back = await rollbackPoint(ctx, swarmName, `ctl reload ${loaded.env} ${service.name}`)
  await updateServiceSpec(manager, swarmName, `force update ${swarmName}`, (spec) => ({
    ...spec,
    TaskTemplate: {...spec.TaskTemplate, ForceUpdate: (spec.TaskTemplate?.ForceUpdate ?? 0) + 1},
    UpdateConfig: heldUpdateConfig(service),
  }))
  note(`${swarmName}: restarting ${view.replicas} task(s) one batch at a time under the /health gate`)
  return followRollout(ctx, service, swarmName, historicTasks(view), view.replicas, back)
}

export interface RollbackTarget {
  swarmName: string
  from: string
  to: string
  /** The release gone back to (absent when the history has none and Swarm's previous spec is used). */
  release?: number
}

/** What a rollback would do (for --dry-run and the confirmation): from the release history, else Swarm's previous spec. */
export async function planRollback(pool: SshPool, loaded: LoadedInventory, service: InventoryService, to?: string): Promise<RollbackTarget> {
  const {swarmName, view, manager} = await openSwarmService(pool, loaded, service, 'roll back')
  const releases = (await readReleases(pool, loaded)).filter((r) => r.service === service.name)
  const hint = `ctl releases ${loaded.env} ${service.name} lists the releases; to run another version, deploy it: ctl deploy ${loaded.env} --image ${service.name}=<tag>`
  if (releases.length > 0 || to !== undefined) {
    const choice = chooseRollbackTarget(releases, service.name, view.image, to)
    if (!choice.ok) throw new CtlError(`${swarmName} ${choice.message}`, {exitCode: ExitCode.cannotRun, host: manager.node.name, code: choice.code, hint})
    return stillOnRegistry(loaded, manager, {swarmName, from: view.image, to: choice.release.image, release: choice.release.id})
  }
  const refusal = rollbackRefusal(view)
  if (refusal) throw new CtlError(`${swarmName} ${refusal.message}`, {exitCode: ExitCode.cannotRun, host: manager.node.name, code: refusal.code, hint})
  return stillOnRegistry(loaded, manager, {swarmName, from: view.image, to: view.previousImage!}) // present: rollbackRefusal checked it
}

/** A rollback target whose bits the registry no longer has (cleaned up, or a wrong password) is refused before the lock. */
async function stillOnRegistry(loaded: LoadedInventory, manager: ManagerHandle, target: RollbackTarget): Promise<RollbackTarget> {
  await resolveDigests(loaded, manager.node, manager.docker, [target.to])
  return target
}

/** Rolls the service to the target's image like a release: batch by batch under the gate, back on failure. */
export async function rollbackService(pool: SshPool, loaded: LoadedInventory, service: InventoryService, target: RollbackTarget): Promise<ServiceOutcome> {
  const {manager, swarmName, view, ctx} = await openSwarmService(pool, loaded, service, 'roll back')
  const back = await rollbackPoint(
    ctx,
    swarmName,
    `ctl deploy ${loaded.env} --stack ${service.stack} --service ${service.name} --image ${service.name}=${view.image}`,
  )
  await updateServiceSpec(manager, swarmName, `roll ${swarmName} to ${target.to}`, (spec) => ({
    ...spec,
    Labels: {...spec.Labels, 'com.docker.stack.image': target.to},
    TaskTemplate: {...spec.TaskTemplate, ContainerSpec: {...spec.TaskTemplate?.ContainerSpec, Image: target.to}},
    UpdateConfig: heldUpdateConfig(service),
  }))
  note(`${swarmName}: ${target.from} → ${target.to}${target.release ? ` (release ${target.release})` : ''}, one batch at a time under the /health gate`)
  return followRollout(ctx, service, swarmName, historicTasks(view), view.replicas, back)
}
