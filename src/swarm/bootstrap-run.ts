import {engineApi, engineCall} from '../docker/index.js'
import {findNode, type LoadedInventory} from '../inventory/load.js'
import {CtlError} from '../lib/errors.js'
import {runTasks} from '../lib/progress.js'
import {registerSecret} from '../lib/redact.js'
import type {SshPool} from '../ssh/pool.js'
import {describeStep, type BootstrapPlan, type BootstrapStep} from './bootstrap-plan.js'
import {installEngineCommand} from './host-facts.js'
import {updateSwarmNode} from './cluster.js'
import {findSwarmNode} from './match.js'
import {toSwarmNode, type SwarmNodeView} from './views.js'

type JoinStep = Extract<BootstrapStep, {kind: 'join'}>
type RoleStep = Extract<BootstrapStep, {kind: 'promote' | 'demote'}>

const LISTEN_ADDRESS = '0.0.0.0:2377'

/** The body of POST /swarm/init. */
export function swarmInitRequest(step: Extract<BootstrapStep, {kind: 'init'}>): Record<string, unknown> {
  return {
    ListenAddr: LISTEN_ADDRESS,
    AdvertiseAddr: step.advertiseAddress,
    ...(step.defaultAddrPool ? {DefaultAddrPool: [step.defaultAddrPool], SubnetSize: 24} : {}),
  }
}

/** The body of POST /swarm/join (the token travels only here, never on a command line). */
export function swarmJoinRequest(step: JoinStep, token: string): Record<string, unknown> {
  return {ListenAddr: LISTEN_ADDRESS, AdvertiseAddr: step.advertiseAddress, RemoteAddrs: [step.remoteAddress], JoinToken: token}
}

/** Installs the distribution's Engine on the nodes of the plan's install steps, in parallel. */
export async function installEngines(pool: SshPool, loaded: LoadedInventory, plan: BootstrapPlan): Promise<void> {
  const nodes = plan.steps.filter((s) => s.kind === 'install-engine').map((s) => findNode(loaded, s.node))
  const outcomes = await runTasks(
    nodes.map((node) => ({key: node.name, title: `${node.name}: install docker.io`, node})),
    (item) => pool.run(item.node, installEngineCommand(), {check: true, step: 'install Docker Engine', timeoutMs: 900_000}),
    {concurrency: loaded.inventory.ssh.concurrency},
  )
  const failed = [...outcomes.entries()].filter(([, o]) => !o.ok)
  if (failed.length > 0) {
    throw new CtlError(`Docker Engine install failed on ${failed.map(([n]) => n).join(', ')}; no swarm change was made`, {
      step: 'install Docker Engine',
      host: failed[0]![0],
      hint: 'Read the apt output above, fix the package sources, then run again.',
    })
  }
}

/**
 * Applies the swarm steps of a plan (installs are done before, by `installEngines`): init, then
 * managers one by one (each join changes the raft quorum), then workers in parallel, then roles.
 * Returns the steps that were applied; the first failure stops the run with what is done so far.
 */
export async function applyBootstrap(pool: SshPool, loaded: LoadedInventory, plan: BootstrapPlan): Promise<string[]> {
  const applied: string[] = []
  const done = (step: BootstrapStep) => applied.push(describeStep(step))
  const stopped = (what: string, error: CtlError) =>
    new CtlError(`${what}: ${error.message}${applied.length ? `\nAlready done: ${applied.join('; ')}` : '\nNothing was changed.'}`, {
      host: error.host,
      step: error.step,
      hint: error.hint ?? `Fix the cause, then run \`ctl node bootstrap ${loaded.env}\` again: it continues from where the swarm is.`,
    })
  const node = (name: string) => findNode(loaded, name)

  const init = plan.steps.find((s) => s.kind === 'init')
  if (init) {
    const target = node(init.node)
    const outcome = await runTasks([{key: target.name, title: describeStep(init)}], () =>
      engineCall(target, 'swarm init', () => engineApi(pool, target).swarmInit(swarmInitRequest(init))),
    )
    const result = outcome.get(target.name)
    if (!result?.ok) throw stopped('swarm init failed', result!.error)
    done(init)
  }

  const joins = plan.steps.filter((s): s is JoinStep => s.kind === 'join')
  if (joins.length > 0) {
    const via = node(joins[0]!.via)
    const swarm = await engineCall(via, 'read join tokens', () => engineApi(pool, via).swarmInspect())
    const tokens = {manager: String(swarm.JoinTokens?.Manager ?? ''), worker: String(swarm.JoinTokens?.Worker ?? '')}
    registerSecret(tokens.manager)
    registerSecret(tokens.worker)
    const join = (step: JoinStep) => {
      const target = node(step.node)
      return engineCall(target, `swarm join as ${step.role}`, () => engineApi(pool, target).swarmJoin(swarmJoinRequest(step, tokens[step.role])), 120_000)
    }
    const managers = joins.filter((s) => s.role === 'manager')
    const managerOutcomes = await runTasks(
      managers.map((s) => ({key: s.node, title: describeStep(s), step: s})),
      (item) => join(item.step),
      {concurrency: 1},
    )
    for (const step of managers) {
      const outcome = managerOutcomes.get(step.node)
      if (!outcome?.ok) throw stopped(`${step.node} could not join as manager`, outcome!.error)
      done(step)
    }
    const workers = joins.filter((s) => s.role === 'worker')
    const workerOutcomes = await runTasks(
      workers.map((s) => ({key: s.node, title: describeStep(s), step: s})),
      (item) => join(item.step),
      {concurrency: loaded.inventory.ssh.concurrency},
    )
    const failed = workers.filter((s) => !workerOutcomes.get(s.node)?.ok)
    workers.filter((s) => workerOutcomes.get(s.node)?.ok).forEach(done)
    if (failed.length > 0) {
      const first = workerOutcomes.get(failed[0]!.node) as {ok: false; error: CtlError}
      throw stopped(`${failed.map((s) => s.node).join(', ')} could not join as worker`, first.error)
    }
  }

  for (const step of plan.steps.filter((s): s is RoleStep => s.kind === 'promote' || s.kind === 'demote')) {
    const manager = {node: node(step.via), docker: engineApi(pool, node(step.via))}
    try {
      const view = toSwarmNode(await engineCall(manager.node, `${step.kind} ${step.node}`, () => manager.docker.getNode(step.nodeId).inspect()))
      await updateSwarmNode(manager, view, {Role: step.kind === 'promote' ? 'manager' : 'worker'}, `${step.kind} ${step.node}`)
    } catch (error) {
      throw stopped(`${step.kind} of ${step.node} failed`, error as CtlError)
    }
    done(step)
  }
  for (const step of plan.steps.filter((s) => s.kind === 'remove-stale')) {
    const via = node(step.via)
    const docker = engineApi(pool, via)
    try {
      // The swarm marks a departed node down after its heartbeats stop (seconds); a live one never is.
      const deadline = Date.now() + 90_000
      while (toSwarmNode(await engineCall(via, `inspect old entry of ${step.node}`, () => docker.getNode(step.nodeId).inspect())).state !== 'down') {
        if (Date.now() > deadline)
          throw new CtlError(`the old entry ${step.nodeId.slice(0, 12)} of ${step.node} is still not down after 90 s; left in place`, {
            host: step.node,
            step: 'remove old entry',
            hint: 'Check `docker node ls` on a manager; remove it with `docker node rm` once it is down.',
          })
        await new Promise((r) => setTimeout(r, 2000))
      }
      await engineCall(via, `remove old entry of ${step.node}`, () => docker.getNode(step.nodeId).remove({}))
    } catch (error) {
      throw stopped(`removing the old swarm entry of ${step.node} failed`, error as CtlError)
    }
    done(step)
  }
  return applied
}

/** Ready, in the inventory's role, and a reachable raft member when a manager. */
function settled(role: string, view: SwarmNodeView | undefined): boolean {
  return view?.state === 'ready' && view.role === role && (role !== 'manager' || view.reachability === 'reachable')
}

/**
 * Waits until a manager lists every swarm member of the inventory Ready in its role (a promoted
 * manager also reachable in raft): joins and role changes settle in seconds.
 */
export async function waitUntilReady(pool: SshPool, loaded: LoadedInventory, viaName: string, timeoutMs = 60_000): Promise<void> {
  const via = findNode(loaded, viaName)
  const members = loaded.inventory.nodes.filter((n) => n.role !== 'none')
  const deadline = Date.now() + timeoutMs
  let notReady: string[] = []
  while (Date.now() < deadline) {
    const nodes = (await engineCall(via, 'list swarm nodes', () => engineApi(pool, via).listNodes())).map(toSwarmNode)
    notReady = members.filter((m) => !settled(m.role, findSwarmNode(m, nodes))).map((m) => m.name)
    if (notReady.length === 0) return
    await new Promise((r) => setTimeout(r, 1000))
  }
  throw new CtlError(`Not Ready in their inventory role after ${timeoutMs / 1000} s: ${notReady.join(', ')}`, {
    host: notReady[0],
    step: 'wait for nodes',
    hint: 'Check that ports 2377/tcp, 7946/tcp+udp and 4789/udp are open between the nodes.',
  })
}
