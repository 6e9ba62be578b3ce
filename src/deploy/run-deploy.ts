import {basename} from 'node:path'
import {readFileSync} from 'node:fs'
import type {LoadedInventory} from '../inventory/load.js'
import {CtlError} from '../lib/errors.js'
import {note} from '../lib/progress.js'
import {quote} from '../lib/shell.js'
import type {SshPool} from '../ssh/pool.js'
import {connectManager} from '../swarm/cluster.js'
import {stackDeployArgv, stackUploadDir} from './docker.js'
import {planDeploy, type DeployPlan, type DeploySelection, type StackPlan} from './plan.js'
import {followRollout, type ServiceOutcome} from './service-rollout.js'
import {readStacks} from './stacks.js'
import {inventoryNodesById, readService, runningImages} from './swarm-io.js'
import type {ManagerHandle} from '../swarm/cluster.js'

/**
 * The deploy executor: reads the stacks, plans against what runs, and (under the lock the command
 * took) uploads, runs `docker stack deploy`, then follows each changed gated service's rollout.
 */

export async function prepareDeploy(pool: SshPool, loaded: LoadedInventory, selection: DeploySelection): Promise<{plan: DeployPlan; manager: ManagerHandle}> {
  const stacks = readStacks(loaded)
  const manager = await connectManager(pool, loaded.inventory)
  const running = await runningImages(manager, stacks.map((s) => s.name))
  return {plan: planDeploy(loaded.env, loaded.inventory, selection, stacks, running), manager}
}

/** Copies the stack's files and ctl's override to the manager; returns their remote paths in order. */
async function uploadStack(pool: SshPool, loaded: LoadedInventory, manager: ManagerHandle, stack: StackPlan): Promise<string[]> {
  const dir = stackUploadDir(loaded.inventory.deployLock.dir, loaded.env, stack.name)
  await pool.run(manager.node, {script: `rm -rf ${quote(dir)} && mkdir -p ${quote(dir)}`}, {check: true, step: `upload stack ${stack.name}`})
  const remote: string[] = []
  for (const [i, file] of stack.files.entries()) {
    const path = `${dir}/${i}-${basename(file)}`
    await pool.writeFile(manager.node, path, readFileSync(file, 'utf8'), '600')
    remote.push(path)
  }
  const override = `${dir}/${stack.files.length}-ctl-override.yml`
  await pool.writeFile(manager.node, override, stack.override, '600')
  return [...remote, override]
}

export interface DeployExecution {
  services: ServiceOutcome[]
  /** Changed services not rolled because an earlier one failed. */
  notStarted: string[]
}

export async function executeDeploy(pool: SshPool, loaded: LoadedInventory, manager: ManagerHandle, plan: DeployPlan): Promise<DeployExecution> {
  const nodesById = await inventoryNodesById(manager, loaded.inventory)
  const outcomes: ServiceOutcome[] = []
  const notStarted: string[] = []
  for (const stack of plan.stacks) {
    const gated = stack.services.filter((s) => s.gated && s.action !== 'unchanged')
    // Tasks that exist now: their old failures do not count against this rollout.
    const before = new Map<string, Set<string>>()
    for (const s of gated) before.set(s.swarmName, s.action === 'create' ? new Set() : new Set((await readService(manager, s.swarmName)).tasks.map((t) => t.id)))
    if (outcomes.some((o) => o.outcome !== 'updated')) {
      notStarted.push(...stack.services.filter((s) => s.action !== 'unchanged').map((s) => s.swarmName))
      continue
    }
    const files = await uploadStack(pool, loaded, manager, stack)
    note(`docker stack deploy ${stack.name} on ${manager.node.name}`)
    await pool.run(manager.node, stackDeployArgv(manager.node, stack.name, files), {check: true, step: `stack deploy ${stack.name}`, timeoutMs: 180_000})
    // Swarm rolls the changed services of a stack at once; ctl gates them one after the other.
    for (const s of gated) {
      const service = loaded.inventory.services.find((x) => x.strategy === 'swarm' && x.stack === s.stack && x.name === s.service)
      if (!service) throw new CtlError(`internal: no inventory service for ${s.swarmName}`)
      note(`${s.swarmName}: ${s.oldImage ?? 'new service'} → ${s.newImage}, one task at a time under the /health gate`)
      outcomes.push(await followRollout({pool, manager, inventory: loaded.inventory, nodesById, report: note}, service, s.swarmName, before.get(s.swarmName)!, s.replicas, s.action === 'update'))
    }
  }
  return {services: outcomes, notStarted}
}
