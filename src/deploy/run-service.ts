import type {LoadedInventory} from '../inventory/load.js'
import type {InventoryService} from '../inventory/schema/index.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {note} from '../lib/progress.js'
import type {SshPool} from '../ssh/pool.js'
import {connectManager} from '../swarm/cluster.js'
import {gatePacingSeconds} from './compose.js'
import {serviceForceUpdateArgv, serviceRollbackArgv} from './docker.js'
import {swarmServiceName} from './plan.js'
import {followRollback, followRollout, type ServiceOutcome} from './service-rollout.js'
import {inventoryNodesById, readService, serviceExists} from './swarm-io.js'
import type {ServiceView} from './swarm-state.js'

/** The executors of `ctl reload` (Swarm strategy) and `ctl rollback`: one service, gated. */

/** The inventory service named on the command line. */
export function inventoryService(loaded: LoadedInventory, name: string): InventoryService {
  const service = loaded.inventory.services.find((s) => s.name === name)
  if (!service) {
    throw new CtlError(`No service named "${name}" in ${loaded.file}`, {exitCode: ExitCode.cannotRun, code: 'deploy.unknown-service', hint: `Known services: ${loaded.inventory.services.map((s) => s.name).join(', ') || 'none'}`})
  }
  return service
}

/** A gated Swarm service that exists: what reload and rollback need first. */
async function openSwarmService(pool: SshPool, loaded: LoadedInventory, service: InventoryService, verb: string) {
  if (service.strategy !== 'swarm') throw new CtlError(`${verb} of "${service.name}": it is a hosts-strategy service`, {exitCode: ExitCode.cannotRun, hint: 'Hosts-strategy services are reloaded host by host with `ctl reload`; there is no Swarm spec to roll back.'})
  if (!service.health) throw new CtlError(`Service "${service.name}" has no health check in the inventory: ctl will not ${verb} it without a gate`, {exitCode: ExitCode.cannotRun, hint: 'Add `health:` (port, path) to the service.'})
  const manager = await connectManager(pool, loaded.inventory)
  const swarmName = swarmServiceName(service.stack!, service.name)
  if (!(await serviceExists(manager, swarmName))) {
    throw new CtlError(`Swarm service ${swarmName} does not exist`, {exitCode: ExitCode.cannotRun, host: manager.node.name, hint: `Deploy it first: ctl deploy ${loaded.env} --stack ${service.stack}`})
  }
  const view = await readService(manager, swarmName)
  const nodesById = await inventoryNodesById(manager, loaded.inventory)
  return {manager, swarmName, view, ctx: {pool, manager, inventory: loaded.inventory, nodesById, report: note}}
}

/** `docker service update --force` under the inventory's rollout, followed by the gate. */
export async function reloadSwarmService(pool: SshPool, loaded: LoadedInventory, service: InventoryService): Promise<ServiceOutcome> {
  const {manager, swarmName, view, ctx} = await openSwarmService(pool, loaded, service, 'reload')
  const before = new Set(view.tasks.map((t) => t.id))
  await pool.run(manager.node, serviceForceUpdateArgv(manager.node, swarmName, service.rollout, gatePacingSeconds(service)), {check: true, step: `force update ${swarmName}`})
  note(`${swarmName}: restarting ${view.replicas} task(s) one at a time under the /health gate`)
  return followRollout(ctx, service, swarmName, before, view.replicas)
}

export interface RollbackTarget {
  swarmName: string
  from: string
  to: string
}

/**
 * Why a service cannot be rolled back, if it cannot: Swarm drops the previous spec once it has
 * rolled back, and a previous spec kept after a rollback would be the failed release itself.
 */
export function rollbackRefusal(view: Pick<ServiceView, 'previousImage' | 'updateState'>): {code: string; message: string} | undefined {
  if (view.updateState === 'rollback_completed') {
    return {code: 'deploy.already-rolled-back', message: 'was already rolled back: going "back" again would bring back the release it was rolled back from'}
  }
  if (!view.previousImage) return {code: 'deploy.no-previous', message: 'has no previous spec to roll back to'}
  return undefined
}

/** What a rollback would do (for --dry-run and the confirmation). */
export async function planRollback(pool: SshPool, loaded: LoadedInventory, service: InventoryService): Promise<RollbackTarget> {
  const {swarmName, view, manager} = await openSwarmService(pool, loaded, service, 'roll back')
  const refusal = rollbackRefusal(view)
  if (refusal) throw new CtlError(`${swarmName} ${refusal.message}`, {exitCode: ExitCode.cannotRun, host: manager.node.name, code: refusal.code, hint: `To run another version, deploy it: ctl deploy ${loaded.env} --image ${service.name}=<tag>`})
  return {swarmName, from: view.image, to: view.previousImage!} // present: rollbackRefusal checked it
}

/** Swarm's own rollback to the previous spec, then every replica gated on the old version. */
export async function rollbackService(pool: SshPool, loaded: LoadedInventory, service: InventoryService): Promise<ServiceOutcome> {
  const {manager, swarmName, view, ctx} = await openSwarmService(pool, loaded, service, 'roll back')
  await pool.run(manager.node, serviceRollbackArgv(manager.node, swarmName), {check: true, step: `rollback ${swarmName}`})
  note(`${swarmName}: rolling back to its previous spec`)
  return followRollback(ctx, service, swarmName, view.replicas)
}
