import {basename} from 'node:path'
import {readFileSync} from 'node:fs'
import type {LoadedInventory} from '../inventory/load.js'
import {CtlError} from '../lib/errors.js'
import {note} from '../lib/progress.js'
import {quote} from '../lib/shell.js'
import type {SshPool} from '../ssh/pool.js'
import {connectManager} from '../swarm/cluster.js'
import {heldUpdateConfig, restingUpdateConfig, rollbackOrder} from './compose.js'
import {stackDeployArgv, stackUploadDir} from './docker.js'
import {imagesToResolve, planDeploy, type DeployPlan, type DeploySelection, type ServicePlan, type StackPlan} from './plan.js'
import {followRollout, historicTasks, rollbackPoint, type RollContext, type ServiceOutcome} from './service-rollout.js'
import {readStacks} from './stacks.js'
import {inventoryNodesById, readService, readServiceSpec, runningImages, updateServiceSpec} from './swarm-io.js'
import {serviceUnfitness} from './swarm-state.js'
import type {InventoryService} from '../inventory/schema/index.js'
import type {ManagerHandle} from '../swarm/cluster.js'
import {registriesOf, withRegistryLogin} from '../registry/login.js'
import {resolveDigests} from '../registry/resolve.js'

/**
 * The deploy executor: reads the stacks, plans against what runs, and (under the lock the command
 * took) uploads, runs `docker stack deploy`, then follows each changed gated service's rollout.
 */

export async function prepareDeploy(pool: SshPool, loaded: LoadedInventory, selection: DeploySelection): Promise<{plan: DeployPlan; manager: ManagerHandle}> {
  const stacks = readStacks(loaded)
  const manager = await connectManager(pool, loaded.inventory)
  const running = await runningImages(
    manager,
    stacks.map((s) => s.name),
  )
  // Services Swarm left half-way (paused update or rollback, extra tasks): a deploy repairs them.
  const unclean: Record<string, string> = {}
  for (const service of loaded.inventory.services.filter((s) => s.strategy === 'swarm' && s.health)) {
    const name = `${service.stack}_${service.name}`
    if (running[name] === undefined) continue
    const why = serviceUnfitness(await readService(manager, name))
    if (why) unclean[name] = why
  }
  // Each new tag → its digest on the registry, before the lock and before anything changes: a
  // mistyped tag or a refused password stops here; the stack then runs exactly these bits.
  const wanted = imagesToResolve(loaded.inventory, selection, stacks, running)
  if (wanted.length > 0) note(`resolving ${wanted.join(', ')} on the registry (from ${manager.node.name})`)
  const digests = await resolveDigests(loaded, manager.node, manager.docker, wanted)
  return {plan: planDeploy(loaded.env, loaded.inventory, selection, stacks, running, unclean, digests), manager}
}

/** Copies the stack's files and ctl's override to the manager; returns their remote paths in order. */
async function uploadStack(pool: SshPool, loaded: LoadedInventory, manager: ManagerHandle, stack: StackPlan, overrideText: string): Promise<string[]> {
  const dir = stackUploadDir(loaded.inventory.deployLock.dir, loaded.env, stack.name)
  await pool.run(manager.node, {script: `rm -rf ${quote(dir)} && mkdir -p ${quote(dir)}`}, {check: true, step: `upload stack ${stack.name}`})
  const remote: string[] = []
  for (const [i, file] of stack.files.entries()) {
    const path = `${dir}/${i}-${basename(file)}`
    await pool.writeFile(manager.node, path, readFileSync(file, 'utf8'), '600')
    remote.push(path)
  }
  const override = `${dir}/${stack.files.length}-ctl-override.yml`
  await pool.writeFile(manager.node, override, overrideText, '600')
  return [...remote, override]
}

export interface DeployExecution {
  services: ServiceOutcome[]
  /** Changed services not rolled because an earlier one failed. */
  notStarted: string[]
}

export async function executeDeploy(pool: SshPool, loaded: LoadedInventory, manager: ManagerHandle, plan: DeployPlan): Promise<DeployExecution> {
  const images = plan.stacks.flatMap((st) => st.services.map((s) => s.newImage))
  return withRegistryLogin(pool, loaded, manager.node, registriesOf(loaded, images), (configDir) => rollStacks(pool, loaded, manager, plan, configDir))
}

/** Deploys each stack stage by stage and follows every changed gated service's rollout. */
async function rollStacks(
  pool: SshPool,
  loaded: LoadedInventory,
  manager: ManagerHandle,
  plan: DeployPlan,
  configDir: string | undefined,
): Promise<DeployExecution> {
  const nodesById = await inventoryNodesById(manager, loaded.inventory)
  const ctx: RollContext = {pool, manager, inventory: loaded.inventory, nodesById, report: note}
  const outcomes: ServiceOutcome[] = []
  const notStarted: string[] = []
  for (const stack of plan.stacks) {
    for (const stage of stack.stages) {
      // Gated services whose image stays: a settings change in the stack files still makes Swarm roll them.
      const others = stack.services.filter((s) => s.gated && s.action === 'unchanged')
      const rolled = stage.gated.map((name) => stack.services.find((s) => s.swarmName === name)!)
      if (outcomes.some((o) => o.outcome !== 'updated')) {
        notStarted.push(...rolled.map((s) => s.swarmName))
        continue
      }
      // Read before anything changes: the tasks that are history, and the spec to go back to.
      const starts = new Map<string, {before: Set<string>; back: Awaited<ReturnType<typeof rollbackPoint>>}>()
      for (const s of [...rolled, ...others]) {
        const exists = s.action !== 'create'
        const finishWith = `ctl deploy ${loaded.env} --stack ${s.stack} --service ${s.service} --image ${s.service}=${s.oldImage ?? s.newImage}`
        starts.set(s.swarmName, {
          before: exists ? historicTasks(await readService(manager, s.swarmName)) : new Set(),
          back: await rollbackPoint(ctx, s.swarmName, finishWith, exists, s.action !== 'repair'),
        })
      }
      const files = await uploadStack(pool, loaded, manager, stack, stage.override)
      note(`docker stack deploy ${stack.name} on ${manager.node.name}`)
      await pool.run(manager.node, stackDeployArgv(manager.node, stack.name, files, configDir), {
        check: true,
        step: `stack deploy ${stack.name}`,
        timeoutMs: 180_000,
      })
      for (const s of rolled) {
        const service = inventoryServiceOf(loaded, s)
        const {before, back} = starts.get(s.swarmName)!
        if (s.action === 'repair') {
          // The spec is what we want already: restart Swarm's updater on it (stop-first where host ports
          // are all taken), batch by batch under the gate like any rollout.
          note(`${s.swarmName}: ${s.repairReason}; repairing`)
          const order = rollbackOrder(service, back.hostPorts)
          await updateServiceSpec(manager, s.swarmName, `repair ${s.swarmName}`, (spec) => ({
            ...spec,
            UpdateConfig: {...heldUpdateConfig(service), Order: order},
          }))
        } else {
          note(`${s.swarmName}: ${s.oldImage ?? 'new service'} → ${s.newImage}, one batch at a time under the /health gate`)
        }
        const outcome = await followRollout(ctx, service, s.swarmName, before, s.replicas, back)
        outcomes.push(
          s.action === 'repair' && outcome.outcome === 'updated' ? {...outcome, outcome: 'updated', reason: `repaired: ${s.repairReason}`} : outcome,
        )
        if (outcome.outcome !== 'updated') break
      }
      for (const s of others) {
        if (outcomes.some((o) => o.outcome !== 'updated') || (await readService(manager, s.swarmName)).updateState !== 'updating') continue
        note(`${s.swarmName}: its settings changed; Swarm replaces its tasks one batch at a time under the /health gate`)
        const {before, back} = starts.get(s.swarmName)!
        outcomes.push(await followRollout(ctx, inventoryServiceOf(loaded, s), s.swarmName, before, s.replicas, back))
      }
    }
  }
  // Stack deploys put the hold on every gated service; those left held (nothing to roll, or created) get their resting settings back.
  if (outcomes.every((o) => o.outcome === 'updated')) {
    for (const s of plan.stacks.flatMap((st) => st.services).filter((x) => x.gated)) {
      await settleHeld(manager, inventoryServiceOf(loaded, s), s.swarmName)
    }
  }
  return {services: outcomes, notStarted}
}

/** Puts a service's resting update settings back when a stack deploy left it held (with nothing to roll). */
async function settleHeld(manager: ManagerHandle, service: InventoryService, swarmName: string): Promise<void> {
  const {spec} = await readServiceSpec(manager, swarmName)
  if ((spec.UpdateConfig?.Delay ?? 0) < 3600e9) return
  await updateServiceSpec(manager, swarmName, `settle ${swarmName}`, (current) => ({...current, UpdateConfig: restingUpdateConfig(service)}))
}

function inventoryServiceOf(loaded: LoadedInventory, s: ServicePlan): InventoryService {
  const service = loaded.inventory.services.find((x) => x.strategy === 'swarm' && x.stack === s.stack && x.name === s.service)
  if (!service) throw new CtlError(`internal: no inventory service for ${s.swarmName}`)
  return service
}
