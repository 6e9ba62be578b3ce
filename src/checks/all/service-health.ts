import {healthUrl} from '../../deploy/health-url.js'
import {swarmServiceName} from '../../deploy/plan.js'
import {inventoryNodesById, readService, serviceExists} from '../../deploy/swarm-io.js'
import {serviceUnfitness} from '../../deploy/swarm-state.js'
import type {InventoryService} from '../../inventory/schema/index.js'
import {describeAnswer, httpGet, type HttpAnswer} from '../http.js'
import {nodeNamed} from '../targets.js'
import type {CheckContext, CheckDefinition, Finding} from '../types.js'
import {reachableManager} from './swarm.js'

/** What the check learnt about one service. */
export interface ServiceFacts {
  env: string
  service: InventoryService
  /** Swarm service name, or `hosts` for the host strategy. */
  runsAs: string
  expectedReplicas: number
  runningReplicas: number
  /** /health answers, one per task or host (or the load balancer's). */
  answers: HttpAnswer[]
  /** Swarm: why the service is half-way (paused update or rollback, tasks other than its replicas). */
  unfit?: string
}

/** True when the JSON body has `field` set to true (nested fields as `a.b`). */
export function jsonFieldIsTrue(body: string, field: string): boolean {
  try {
    let value: unknown = JSON.parse(body)
    for (const key of field.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined
    return value === true
  } catch {
    return false
  }
}

/**
 * Replicas running as many as wanted, every /health answering the expected status, and, for a
 * service whose servers elect a leader (seed 001's `batchWriterLeader`), exactly one leader.
 */
export function judgeServiceHealth(facts: ServiceFacts): Finding {
  const {service, env} = facts
  const expect = service.health?.expectStatus ?? 200
  if (facts.unfit) {
    return {
      status: 'fail',
      detail: `not fit to deploy onto: ${facts.unfit} (${facts.runsAs})`,
      hint: `ctl deploy ${env} --service ${service.name} repairs it (same image, every replica gated, update state left clean).`,
    }
  }
  if (facts.runningReplicas < facts.expectedReplicas) {
    return {
      status: 'fail',
      detail: `${facts.runningReplicas}/${facts.expectedReplicas} replicas running (${facts.runsAs})`,
      hint: `See why tasks do not run: docker service ps ${facts.runsAs} on a manager, or ctl deploy ${env} --service ${service.name}.`,
    }
  }
  const bad = facts.answers.filter((a) => a.status !== expect)
  if (bad.length > 0) {
    return {
      status: 'fail',
      detail: `${bad.length}/${facts.answers.length} /health answers wrong: ${bad.map((a) => `${a.url} → ${describeAnswer(a)}`).join('; ')}`,
      hint: `Read the service's logs (docker service logs ${facts.runsAs}); ctl rollback ${env} ${service.name} if a release broke it.`,
    }
  }
  const field = service.health?.singleLeaderField
  if (field) {
    const leaders = facts.answers.filter((a) => jsonFieldIsTrue(a.body, field))
    if (leaders.length !== 1) {
      const who = leaders.map((a) => a.url).join(', ')
      return {
        status: 'fail',
        detail: `${leaders.length} servers report ${field}: true${who ? ` (${who})` : ''}; exactly one must`,
        hint:
          leaders.length === 0
            ? "No server does the leader's work: check its leader election (Redis lock) and restart one server."
            : 'Split brain: several leaders; restart all but one (ctl reload) and check the leader lock.',
      }
    }
  }
  const answered = facts.answers.length > 0 ? `, /health ${expect} on ${facts.answers.length}` : ', no /health in the inventory'
  return {status: 'pass', detail: `${facts.runningReplicas}/${facts.expectedReplicas} replicas running${answered}${field ? `, one ${field}` : ''}`}
}

async function probeAll(urls: readonly string[], timeoutMs: number): Promise<HttpAnswer[]> {
  return Promise.all(urls.map((u) => httpGet(u, timeoutMs)))
}

async function swarmFacts(ctx: CheckContext, service: InventoryService): Promise<ServiceFacts> {
  const manager = await reachableManager(ctx)
  const runsAs = swarmServiceName(service.stack!, service.name)
  const base = {env: ctx.inventory.name, service, runsAs}
  if (!(await serviceExists(manager, runsAs))) return {...base, expectedReplicas: service.replicas ?? 1, runningReplicas: 0, answers: []}
  const view = await readService(manager, runsAs)
  const running = view.tasks.filter((t) => t.desiredState === 'running' && t.state === 'running')
  let urls: (string | undefined)[] = []
  if (service.health?.via === 'loadBalancer') urls = [healthUrl(ctx.inventory, service, undefined)]
  else if (service.health) {
    const byId = await inventoryNodesById(manager, ctx.inventory)
    urls = running.map((t) => healthUrl(ctx.inventory, service, t.nodeId ? byId.get(t.nodeId)?.address : undefined))
  }
  const answers = await probeAll(
    urls.filter((u): u is string => Boolean(u)),
    service.health?.timeoutMs ?? 2000,
  )
  return {...base, expectedReplicas: service.replicas ?? view.replicas, runningReplicas: running.length, answers, unfit: serviceUnfitness(view)}
}

async function hostFacts(ctx: CheckContext, service: InventoryService): Promise<ServiceFacts> {
  const hosts = (service.hosts ?? []).map((h) => nodeNamed(ctx.inventory, h))
  const viaHosts = service.health?.via !== 'loadBalancer'
  const urls = [...new Set(hosts.map((n) => healthUrl(ctx.inventory, service, n.address)).filter((u): u is string => Boolean(u)))]
  const answers = await probeAll(urls, service.health?.timeoutMs ?? 2000)
  // A host's server counts as running when it answers at all; through the load balancer it cannot be counted.
  const running = viaHosts && urls.length > 0 ? answers.filter((a) => a.status !== null).length : hosts.length
  return {
    env: ctx.inventory.name,
    service,
    runsAs: `hosts ${hosts.map((h) => h.name).join(',')}`,
    expectedReplicas: hosts.length,
    runningReplicas: running,
    answers,
  }
}

export const serviceHealthCheck: CheckDefinition = {
  id: 'service-health',
  title: 'Services: replicas running and /health answering (one batch-writer leader where asked)',
  needs: 'SSH and docker CLI on a manager (Swarm services); HTTP from here to /health',
  targets: (inventory) => inventory.services.map((s) => ({name: s.name})),
  skipReason: 'no services in the inventory',
  async run(ctx, target) {
    const service = ctx.inventory.services.find((s) => s.name === target.name)!
    return judgeServiceHealth(service.strategy === 'hosts' ? await hostFacts(ctx, service) : await swarmFacts(ctx, service))
  },
}
