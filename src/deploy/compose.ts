import {parse, stringify} from 'yaml'
import {CtlError} from '../lib/errors.js'
import type {InventoryService} from '../inventory/schema/index.js'

/**
 * What ctl reads from a stack's compose files, and the small override file it adds on top
 * (`docker stack deploy -c file... -c ctl-override.yml`): the operator's files are uploaded as they are.
 */

export interface ComposeService {
  image?: string
  replicas?: number
  constraints: string[]
  /** Host-mode published ports (they limit one task per node). */
  hostPorts: number[]
  /** The stack file defines a container healthcheck. */
  healthcheck: boolean
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Merges compose documents the way `docker stack deploy -c a -c b` does: maps deeply, the rest replaced. */
export function mergeCompose(documents: readonly Json[]): Json {
  const merge = (a: unknown, b: unknown): unknown => {
    if (!isObject(a) || !isObject(b)) return b
    const out: Json = {...a}
    for (const [key, value] of Object.entries(b)) out[key] = key in a ? merge(a[key], value) : value
    return out
  }
  return documents.reduce<Json>((acc, doc) => merge(acc, doc) as Json, {})
}

export function parseComposeText(text: string, file: string): Json {
  let doc: unknown
  try {
    doc = parse(text)
  } catch (error) {
    throw new CtlError(`Cannot parse stack file ${file}: ${(error as Error).message}`, {
      code: 'deploy.bad-stack-file',
      hint: 'Check it with `docker stack config -c <file>`.',
    })
  }
  if (!isObject(doc) || !isObject(doc.services)) {
    throw new CtlError(`Stack file ${file} has no services: map`, {code: 'deploy.bad-stack-file'})
  }
  return doc
}

/** The services of a merged compose document, reduced to what the deploy plan needs. */
export function composeServices(doc: Json): Record<string, ComposeService> {
  const services = isObject(doc.services) ? doc.services : {}
  const out: Record<string, ComposeService> = {}
  for (const [name, raw] of Object.entries(services)) {
    const svc = isObject(raw) ? raw : {}
    const deploy = isObject(svc.deploy) ? svc.deploy : {}
    const placement = isObject(deploy.placement) ? deploy.placement : {}
    const ports = Array.isArray(svc.ports) ? svc.ports : []
    out[name] = {
      image: typeof svc.image === 'string' ? svc.image : undefined,
      replicas: typeof deploy.replicas === 'number' ? deploy.replicas : undefined,
      constraints: Array.isArray(placement.constraints) ? placement.constraints.map(String) : [],
      hostPorts: ports.filter((p): p is Json => isObject(p) && p.mode === 'host' && typeof p.published === 'number').map((p) => p.published as number),
      healthcheck: isObject(svc.healthcheck) && svc.healthcheck.disable !== true,
    }
  }
  return out
}

/** Seconds Swarm waits between two tasks: long enough for ctl's gate to pass on the task just started. */
export function gatePacingSeconds(service: InventoryService): number {
  const health = service.health
  if (!health) return 0
  return Math.ceil(health.passForSeconds + (2 * health.intervalMs) / 1000 + 1)
}

/**
 * ctl holds Swarm after every batch it replaces: `delay` is a day, and ctl lets Swarm go on (a
 * service-label change restarts Swarm's updater on the remaining slots) only once the batch passed
 * ctl's gate. Swarm cannot move on by its own clock; a failure pauses it (`failure_action: pause`)
 * and ctl decides. See docs/DEPLOY.md.
 */
const ROLLOUT_HOLD = '24h'

/**
 * The order of a rollback (and of a repair): stop-first for a service publishing host ports, which
 * may have no free node left for start-first (the paused rollbacks Swarm gets stuck in).
 */
export function rollbackOrder(service: InventoryService, hostPorts: readonly number[]): 'start-first' | 'stop-first' {
  return hostPorts.length > 0 ? 'stop-first' : service.rollout.order
}

/** Swarm's update and rollback settings for a rollout under ctl's gate. */
function updateConfigFor(service: InventoryService, compose?: Pick<ComposeService, 'hostPorts'>): {update_config: Json; rollback_config: Json} {
  const r = service.rollout
  return {
    update_config: {
      parallelism: r.parallelism,
      order: r.order,
      delay: ROLLOUT_HOLD,
      monitor: `${r.monitorSeconds}s`,
      failure_action: 'pause',
      max_failure_ratio: 0,
    },
    rollback_config: {
      parallelism: r.parallelism,
      order: rollbackOrder(service, compose?.hostPorts ?? []),
      monitor: `${r.monitorSeconds}s`,
      failure_action: 'pause',
      max_failure_ratio: 0,
    },
  }
}

const NS = 1_000_000_000

/**
 * The UpdateConfig ctl leaves on a service once its rollout is over (Engine API form): paced for the
 * gate, the inventory's failure action, so a later hand-made `docker service update` behaves as before.
 */
export function restingUpdateConfig(service: InventoryService): Json {
  const r = service.rollout
  return {
    Parallelism: r.parallelism,
    Delay: gatePacingSeconds(service) * NS,
    FailureAction: r.failureAction,
    Monitor: r.monitorSeconds * NS,
    MaxFailureRatio: 0,
    Order: r.order,
  }
}

/** The UpdateConfig of ctl's rollback (and repair) update: no hold, stop-first where host ports demand it. */
export function rollbackUpdateConfig(service: InventoryService, hostPorts: readonly number[]): Json {
  const r = service.rollout
  return {
    Parallelism: r.parallelism,
    Delay: 0,
    FailureAction: 'pause',
    Monitor: r.monitorSeconds * NS,
    MaxFailureRatio: 0,
    Order: rollbackOrder(service, hostPorts),
  }
}

/** The UpdateConfig of a step-by-step rollout ctl starts itself (reload, rollback --to). */
export function heldUpdateConfig(service: InventoryService): Json {
  const r = service.rollout
  return {Parallelism: r.parallelism, Delay: 24 * 3600 * NS, FailureAction: 'pause', Monitor: r.monitorSeconds * NS, MaxFailureRatio: 0, Order: r.order}
}

/**
 * The override file ctl adds last: the chosen images and, for inventory services, their rollout; a
 * stack healthcheck gets `start_period` = the gate's deadline, so Docker does not kill a task that is
 * slow to start before ctl's gate has decided on it.
 */
export function renderOverride(
  images: Record<string, string>,
  services: readonly InventoryService[],
  version = '3.8',
  composed: Record<string, ComposeService> = {},
): string {
  const out: Record<string, Json> = {}
  for (const [name, image] of Object.entries(images)) out[name] = {image}
  for (const service of services) {
    const compose = composed[service.name]
    out[service.name] = {...out[service.name], deploy: updateConfigFor(service, compose)}
    if (compose?.healthcheck && service.health) out[service.name]!.healthcheck = {start_period: `${service.health.deadlineSeconds}s`}
  }
  // docker stack deploy refuses files whose `version` differ, so the override copies the stack's.
  return `# Written by ctl deploy: images and rollout settings layered on the stack's own files.\n${stringify({version, services: out})}`
}
