import {writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runDockerCli} from '../../src/docker/index.js'
import {findNode, loadInventory, type LoadedInventory} from '../../src/inventory/load.js'
import {SshPool} from '../../src/ssh/pool.js'
import {connectManager, listServices, listSwarmNodes, listTasks, type ManagerHandle} from '../../src/swarm/cluster.js'
import {loadStacks, verifyPlacement} from '../../src/swarm/placement.js'
import {runCtl} from '../support/cli.js'
import {labInventoryCopy} from './support/swarm.js'

// verifyPlacement against the lab's live swarm, then the same stack deployed for real: the service
// it says matches no node stays pending in the scheduler; the forbidden host-mode port is flagged
// although the swarm itself would run it (it is the inventory's rule, seed 002).
const STACK = 'ctltest'
const stackFile = `version: "3.8"
services:
  web:
    image: ctl-lab/app:v1
    ports:
      - {target: 8080, published: 18481, mode: host}
    deploy:
      placement:
        constraints: [node.labels.type == service]
  queue:
    image: ctl-lab/app:v1
    ports:
      - {target: 8080, published: 18482, mode: host}
    deploy:
      placement:
        constraints: [node.labels.type == service]
  lost:
    image: ctl-lab/app:v1
    deploy:
      placement:
        constraints: [node.labels.type == db]
`

describe('placement verification on the lab', () => {
  let loaded: LoadedInventory
  let pool: SshPool
  let manager: ManagerHandle

  beforeAll(async () => {
    const file = labInventoryCopy((inv) => {
      inv.stacks = [...(inv.stacks ?? []), {name: STACK, files: ['ctltest-stack.yml'], hostModePortsAllowed: ['web']}]
    })
    writeFileSync(join(dirname(file), 'ctltest-stack.yml'), stackFile)
    const formed = await runCtl(['node', 'bootstrap', 'lab', '--yes'])
    expect(formed.exitCode, formed.stderr).toBe(0)
    expect((await runCtl(['node', 'label', 'lab', '--yes'])).exitCode).toBe(0)
    loaded = loadInventory(file)
    pool = new SshPool(loaded)
    manager = await connectManager(pool, loaded.inventory)
  })
  afterAll(async () => {
    if (manager) await runDockerCli(pool, manager.node, ['stack', 'rm', STACK])
    pool?.dispose()
  })

  it('flags the constraint that matches no node and the forbidden host-mode port, with the live swarm', async () => {
    const report = verifyPlacement(loaded.inventory, loadStacks(loaded, [STACK]), {swarmNodes: await listSwarmNodes(manager)})
    expect(report.ok).toBe(false)
    expect(report.findings.map((f) => [f.service, f.kind, f.severity])).toEqual([
      ['queue', 'host-mode-port', 'error'],
      ['lost', 'no-matching-node', 'error'],
    ])
    expect(report.services.find((s) => s.service === 'web')).toMatchObject({nodes: ['h1', 'h2', 'h3'], hostModePorts: ['18481/tcp']})
  })

  it('agrees with the scheduler once the stack is deployed: "lost" cannot be placed, the others run', async () => {
    const h1 = findNode(loaded, 'h1')
    await pool.writeFile(h1, '/tmp/ctltest-stack.yml', stackFile, '644')
    await runDockerCli(pool, h1, ['stack', 'deploy', '-c', '/tmp/ctltest-stack.yml', STACK], {check: true, step: 'stack deploy'})
    const services = (await listServices(manager)).filter((s) => s.name.startsWith(`${STACK}_`))
    const id = (name: string) => services.find((s) => s.name === `${STACK}_${name}`)!.id
    const deadline = Date.now() + 120_000
    let states: Record<string, string[]>
    for (;;) {
      const tasks = await listTasks(manager, {service: services.map((s) => s.id), 'desired-state': ['running']})
      states = Object.fromEntries(
        ['web', 'queue', 'lost'].map((n) => [n, tasks.filter((t) => t.serviceId === id(n)).map((t) => `${t.state}${t.error ? `: ${t.error}` : ''}`)]),
      )
      if (states.web?.[0] === 'running' && states.queue?.[0] === 'running' && /no suitable node/.test(states.lost?.[0] ?? '')) break
      if (Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 1000))
    }
    expect(states.web).toEqual(['running'])
    expect(states.queue).toEqual(['running'])
    expect(states.lost).toEqual([expect.stringMatching(/^pending: no suitable node \(scheduling constraints not satisfied on 3 nodes\)/)])
  })
})
