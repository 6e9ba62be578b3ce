import {z} from './zod.js'
import {durationMs, durationSeconds, hostAddress, httpUrl, identifier, localPath, port, textLine} from './common.js'

export const stack = z.strictObject({
  name: identifier,
  /** Compose files, relative to the inventory file. */
  files: z.array(localPath).min(1),
  /** Services (compose names) allowed to publish ports in host mode; seed 002 keeps Redis/RabbitMQ off it. */
  hostModePortsAllowed: z.array(identifier).default([]),
})

const healthCheck = z.strictObject({
  /** Where the gate asks: through the load balancer, or at each task/host directly. */
  via: z.enum(['loadBalancer', 'task', 'host']).default('task'),
  path: z
    .string()
    .regex(/^\/[^\s\p{Cc}]*$/u, 'a URL path starting with /')
    .default('/health'),
  port: port.optional(),
  /** Full URL, when asked through the load balancer. */
  url: httpUrl.optional(),
  expectStatus: z.number().int().min(100).max(599).default(200),
  /** How long a new task must keep answering healthy before the next one is replaced. */
  passForSeconds: durationSeconds.default(5),
  intervalMs: durationMs.default(500),
  timeoutMs: durationMs.default(2000),
  /** Give up on a task that is not healthy within this time. */
  deadlineSeconds: durationSeconds.positive().default(60),
  /** For seed 001's JSON health: exactly one server reports this field true. */
  singleLeaderField: textLine.optional(),
})

const rollout = z.strictObject({
  parallelism: z.number().int().min(1).default(1),
  order: z.enum(['start-first', 'stop-first']).default('start-first'),
  monitorSeconds: durationSeconds.default(5),
  failureAction: z.enum(['rollback', 'pause']).default('rollback'),
})

export const service = z.strictObject({
  /** Name in ctl commands, e.g. `app`. */
  name: identifier,
  /** Swarm strategy: the stack it lives in (Swarm service `<stack>_<name>`). */
  stack: identifier.optional(),
  strategy: z.enum(['swarm', 'hosts']).default('swarm'),
  replicas: z.number().int().nonnegative().optional(),
  health: healthCheck.optional(),
  rollout: rollout.default(rollout.parse({})),
  /** Host strategy (seed 001): the nodes it runs on, in order, and the reload command (argv). */
  hosts: z.array(identifier).optional(),
  reloadCommand: z.array(z.string()).min(1).optional(),
})
export type InventoryService = z.infer<typeof service>

export const loadBalancer = z.strictObject({
  kind: z.enum(['haproxy', 'traefik', 'apisix', 'nginx']).default('haproxy'),
  url: httpUrl,
})

export const tlsEndpoint = z.strictObject({
  host: hostAddress,
  port: port.default(443),
  minDaysValid: z.number().int().positive().default(14),
})
