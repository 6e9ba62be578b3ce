import {z} from './zod.js'
import {databases} from './databases.js'
import {limits, node, sshSettings, swarm} from './nodes.js'
import {loadBalancer, service, stack, tlsEndpoint} from './services.js'
import {backups, deployLock, vault} from './vault.js'
import {identifier} from './common.js'
import {registries} from './registries.js'
import {notify} from './notify.js'

export const inventorySchema = z
  .strictObject({
    name: identifier,
    description: z.string().optional(),
    ssh: sshSettings.default(sshSettings.parse({})),
    nodes: z.array(node).min(1),
    swarm: swarm.default(swarm.parse({})),
    limits: limits.default(limits.parse({})),
    registries: registries.default([]),
    stacks: z.array(stack).default([]),
    services: z.array(service).default([]),
    loadBalancer: loadBalancer.optional(),
    databases: databases.default({}),
    vault: vault.optional(),
    backups: backups.default(backups.parse({})),
    deployLock: deployLock.default(deployLock.parse({})),
    tls: z.strictObject({endpoints: z.array(tlsEndpoint).default([])}).default({endpoints: []}),
    notify: notify.default(notify.parse({})),
  })
  .superRefine((inv, ctx) => {
    const names = new Set<string>()
    inv.nodes.forEach((n, i) => {
      if (names.has(n.name)) ctx.addIssue({code: 'custom', path: ['nodes', i, 'name'], message: `duplicate node name "${n.name}"`})
      names.add(n.name)
    })
    const refersToNode = (name: string, path: (string | number)[]) => {
      if (!names.has(name)) ctx.addIssue({code: 'custom', path, message: `no node named "${name}" in nodes`})
    }
    inv.databases.galera?.members.forEach((m, i) => refersToNode(m.node, ['databases', 'galera', 'members', i, 'node']))
    if (inv.databases.galera?.backupNode) refersToNode(inv.databases.galera.backupNode, ['databases', 'galera', 'backupNode'])
    const replica = inv.databases.galera?.backupReplica
    if (replica) {
      const path = ['databases', 'galera', 'backupReplica']
      refersToNode(replica.node, [...path, 'node'])
      if (inv.databases.galera!.members.some((m) => m.node === replica.node))
        ctx.addIssue({code: 'custom', path: [...path, 'node'], message: `"${replica.node}" is a Galera member: the backup replica runs on a node of its own`})
      if (!inv.databases.galera!.members.some((m) => m.node === replica.source))
        ctx.addIssue({code: 'custom', path: [...path, 'source'], message: `the source "${replica.source}" is not a Galera member`})
    }
    inv.databases.patroni?.members.forEach((m, i) => refersToNode(m.node, ['databases', 'patroni', 'members', i, 'node']))
    const pgbouncer = inv.databases.patroni?.pgbouncer
    if (pgbouncer) {
      refersToNode(pgbouncer.node, ['databases', 'patroni', 'pgbouncer', 'node'])
      if (!inv.databases.patroni!.writeEndpoint)
        ctx.addIssue({
          code: 'custom',
          path: ['databases', 'patroni', 'pgbouncer'],
          message: 'PgBouncer forwards to databases.patroni.writeEndpoint: describe it',
        })
    }
    if (inv.databases.patroni?.pgbackrest) refersToNode(inv.databases.patroni.pgbackrest.repoNode, ['databases', 'patroni', 'pgbackrest', 'repoNode'])
    inv.databases.etcd?.members.forEach((m, i) => refersToNode(m.node, ['databases', 'etcd', 'members', i, 'node']))
    if (inv.databases.etcd?.backupNode) refersToNode(inv.databases.etcd.backupNode, ['databases', 'etcd', 'backupNode'])
    inv.databases.redis?.members.forEach((m, i) => refersToNode(m.node, ['databases', 'redis', 'members', i, 'node']))
    inv.databases.rabbitmq?.members.forEach((m, i) => refersToNode(m.node, ['databases', 'rabbitmq', 'members', i, 'node']))
    if (inv.databases.redis?.backupNode) refersToNode(inv.databases.redis.backupNode, ['databases', 'redis', 'backupNode'])
    if (inv.databases.rabbitmq?.backupNode) refersToNode(inv.databases.rabbitmq.backupNode, ['databases', 'rabbitmq', 'backupNode'])
    inv.vault?.members.forEach((m, i) => refersToNode(m.node, ['vault', 'members', i, 'node']))
    inv.services.forEach((s, i) => {
      s.hosts?.forEach((h, j) => refersToNode(h, ['services', i, 'hosts', j]))
      if (s.strategy === 'swarm' && !s.stack) ctx.addIssue({code: 'custom', path: ['services', i, 'stack'], message: 'a swarm service names its stack'})
      if (s.strategy === 'hosts' && (!s.hosts?.length || !s.reloadCommand)) {
        ctx.addIssue({code: 'custom', path: ['services', i], message: 'a hosts-strategy service needs hosts and reloadCommand'})
      }
      if (s.stack && !inv.stacks.some((st) => st.name === s.stack)) {
        ctx.addIssue({code: 'custom', path: ['services', i, 'stack'], message: `no stack named "${s.stack}" in stacks`})
      }
    })
    const hooks = new Set<string>()
    inv.notify.webhooks.forEach((w, i) => {
      if (hooks.has(w.name)) ctx.addIssue({code: 'custom', path: ['notify', 'webhooks', i, 'name'], message: `duplicate webhook name "${w.name}"`})
      hooks.add(w.name)
    })
    if (inv.vault && inv.vault.keyThreshold > inv.vault.keyShares) {
      ctx.addIssue({code: 'custom', path: ['vault', 'keyThreshold'], message: 'keyThreshold must not exceed keyShares'})
    }
  })

export type Inventory = z.infer<typeof inventorySchema>
export type {InventoryNode} from './nodes.js'
export type {InventoryService} from './services.js'
export type {InventoryRegistry} from './registries.js'
