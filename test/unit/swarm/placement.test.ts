import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {inventorySchema} from '../../../src/inventory/schema/index.js'
import {loadInventory} from '../../../src/inventory/load.js'
import {loadStacks, readStackFile, verifyPlacement, type StackDefinition} from '../../../src/swarm/placement.js'
import {swarmNode} from './fixtures.js'

const stacksDir = join(import.meta.dirname, 'stacks')
const inventory = inventorySchema.parse({
  name: 'prod',
  nodes: [
    {name: 'app-1', address: '10.0.1.1', role: 'manager', labels: {type: 'service'}},
    {name: 'app-2', address: '10.0.1.2', labels: {type: 'service'}},
    {name: 'app-3', address: '10.0.1.3', labels: {type: 'service'}},
    {name: 'db-1', address: '10.0.2.1', labels: {type: 'db'}},
    {name: 'db-2', address: '10.0.2.2', labels: {type: 'db'}},
    {name: 'db-3', address: '10.0.2.3', labels: {type: 'db'}},
    {name: 'backup-1', address: '10.0.3.1', role: 'none'},
  ],
})
const stack = (files: string[], hostModePortsAllowed: string[] = []): StackDefinition => ({
  name: 'infra',
  hostModePortsAllowed,
  files: files.map((f) => readStackFile(join(stacksDir, f))),
})
const lines = (report: ReturnType<typeof verifyPlacement>) => report.findings.map((f) => `${f.severity} ${f.kind} ${f.service ?? '-'}: ${f.message}`)

describe('verifyPlacement', () => {
  it("passes seed 002's stack: DB services on DB nodes in host mode, Redis and RabbitMQ on the overlay", () => {
    const report = verifyPlacement(inventory, [stack(['infra.yml'], ['patroni'])])
    expect(lines(report)).toEqual([])
    expect(report.ok).toBe(true)
    expect(Object.fromEntries(report.services.map((s) => [s.service, s.nodes]))).toEqual({
      patroni: ['db-1', 'db-2', 'db-3'],
      redis: ['app-1', 'app-2', 'app-3'],
      rabbitmq: ['app-2', 'app-3'],
      apisix: ['app-1', 'app-2', 'app-3'],
    })
  })

  it('flags Redis moved to host mode when only Patroni may use it', () => {
    const report = verifyPlacement(inventory, [stack(['infra.yml', 'broken.yml'], ['patroni'])])
    expect(report.findings.filter((f) => f.service === 'redis')).toEqual([
      {
        stack: 'infra',
        service: 'redis',
        kind: 'host-mode-port',
        severity: 'error',
        message:
          'publishes 6379/tcp in host mode, but the inventory allows host mode only for patroni in stack infra (stacks[].hostModePortsAllowed); keep it on the overlay network',
      },
    ])
  })

  it('reports every kind of placement problem in a broken stack file', () => {
    const report = verifyPlacement(inventory, [stack(['broken.yml'])])
    expect(report.ok).toBe(false)
    expect(lines(report)).toEqual([
      'error host-mode-port redis: publishes 6379/tcp in host mode, but the inventory allows host mode only for no service in stack infra (stacks[].hostModePortsAllowed); keep it on the overlay network',
      'error no-matching-node cache: constraints [node.labels.type == cache] match no node of the inventory: its tasks would stay pending',
      'error wrong-role backup: constraints [node.hostname == backup-1] match only backup-1, which is not a Swarm node (role: none): its tasks would never be scheduled',
      'error invalid-constraint typo: "node.labels.type = service" is not a valid constraint: use key==value or key!=value',
      'error host-mode-port edge: publishes 80/tcp in host mode, but the inventory allows host mode only for no service in stack infra (stacks[].hostModePortsAllowed); keep it on the overlay network',
      'error host-port-capacity edge: 4 replicas publish 80/tcp in host mode (one task per node), but only 3 node(s) match: app-1, app-2, app-3',
      'warning unverifiable engine-labelled: "engine.labels.zone == a" cannot be checked before deploy; checked the other constraints only',
    ])
  })

  it('merges later files over earlier ones: constraints replaced, ports kept', () => {
    const report = verifyPlacement(inventory, [stack(['broken.yml', 'override.yml'], ['redis', 'edge'])])
    expect(report.services.find((s) => s.service === 'redis')).toEqual({
      stack: 'infra',
      service: 'redis',
      constraints: ['node.labels.type == db'],
      nodes: ['db-1', 'db-2', 'db-3'],
      hostModePorts: ['6379/tcp'],
    })
    expect(report.findings.filter((f) => f.service === 'redis')).toEqual([])
  })

  it('reports a service the inventory can place but the live swarm cannot (labels not applied yet)', () => {
    const live = [
      swarmNode('a', '10.0.1.1', 'manager', {hostname: 'app-1', labels: {type: 'service'}}),
      swarmNode('d', '10.0.2.1', 'worker', {hostname: 'db-1', labels: {}}),
    ]
    const report = verifyPlacement(inventory, [stack(['infra.yml'], ['patroni'])], {swarmNodes: live})
    expect(lines(report)).toEqual([
      'error not-on-live-swarm patroni: constraints [node.labels.type == db] match db-1, db-2, db-3 in the inventory but no active node of the live swarm: apply labels with `ctl node label prod`, or check node availability',
      'error not-on-live-swarm rabbitmq: constraints [node.labels.type == service, node.role != manager] match app-2, app-3 in the inventory but no active node of the live swarm: apply labels with `ctl node label prod`, or check node availability',
    ])
  })

  it('reports a file that cannot be read', () => {
    const report = verifyPlacement(inventory, [{name: 'x', hostModePortsAllowed: [], files: [readStackFile(join(stacksDir, 'missing.yml'))]}])
    expect(report.findings).toHaveLength(1)
    expect(report.findings[0]).toMatchObject({kind: 'unreadable', severity: 'error'})
    expect(report.findings[0]!.message).toContain('missing.yml: ENOENT')
  })
})

describe('verifyPlacement on the example inventories (inventories/examples)', () => {
  const examples = join(import.meta.dirname, '..', '..', '..', 'inventories', 'examples')
  it.each(['chat-galera', 'hosting-haproxy', 'iklim-swarm', 'modular-ha'])('%s: every service of its stacks can be placed as intended', (name) => {
    const loaded = loadInventory(join(examples, `${name}.yml`))
    const report = verifyPlacement(loaded.inventory, loadStacks(loaded))
    expect(report.findings).toEqual([])
    expect(report.services.length).toBeGreaterThan(0)
  })

  it('iklim (seed 002): RabbitMQ switched to host mode is flagged; Patroni in host mode is not', () => {
    const loaded = loadInventory(join(examples, 'iklim-swarm.yml'))
    const stacks = loadStacks(loaded, ['iklimco'])
    const services = (stacks[0]!.files[0]!.content as {services: Record<string, any>}).services
    services.rabbitmq.ports = [{target: 5672, published: 5672, mode: 'host'}]
    const report = verifyPlacement(loaded.inventory, stacks)
    expect(report.findings.map((f) => [f.service, f.kind])).toEqual([['rabbitmq', 'host-mode-port']])
    expect(report.services.filter((s) => s.hostModePorts.length > 0).map((s) => s.service)).toEqual(expect.arrayContaining(['patroni1', 'rabbitmq']))
  })
})
