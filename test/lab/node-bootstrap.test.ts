import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {docker, labInventoryCopy, LAB_NODES, leaveSwarmEverywhere, swarmOf} from './support/swarm.js'

// `ctl node bootstrap` against the lab's three real engines, from fresh (every engine leaves its
// swarm first). Ends with the lab's swarm formed as inventories/lab.yml says.
describe('ctl node bootstrap lab', () => {
  beforeAll(async () => {
    await leaveSwarmEverywhere()
  })
  afterAll(async () => {
    // Whatever happened above, leave the lab with its swarm formed for the other tests.
    if ((await swarmOf('h3')).ControlAvailable) await docker('h3', ['swarm', 'leave', '--force'], {reject: false})
    const run = await runCtl(['node', 'bootstrap', 'lab', '--yes', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    // A new swarm has no node labels: give it the inventory's, as the other lab tests expect.
    const labelled = await runCtl(['node', 'label', 'lab', '--yes'])
    expect(labelled.exitCode, labelled.stderr).toBe(0)
  })

  it('refuses before any change when a node is already in another swarm', async () => {
    await docker('h3', ['swarm', 'init', '--advertise-addr', '198.18.0.13', '--default-addr-pool', '198.19.64.0/18'])
    const run = await runCtl(['node', 'bootstrap', 'lab', '--yes', '--json'])
    expect(run.exitCode).toBe(2)
    const error = json(run)
    expect(error.error).toBe('swarm.bootstrap-refused')
    expect(error.message).toMatch(/- h3: already in another swarm \(cluster [0-9a-z]{12}\)/)
    expect(error.message).not.toMatch(/h1|h2/)
    // Nothing changed: h1 and h2 are still outside any swarm.
    expect((await swarmOf('h1')).LocalNodeState).toBe('inactive')
    expect((await swarmOf('h2')).LocalNodeState).toBe('inactive')
    await docker('h3', ['swarm', 'leave', '--force'])
  })

  it('shows the plan with --dry-run and changes nothing', async () => {
    const run = await runCtl(['node', 'bootstrap', 'lab', '--dry-run', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const result = json(run)
    expect(result.steps.map((s: any) => s.description)).toEqual([
      'h1: swarm init, advertise 198.18.0.11, default address pool 198.19.64.0/18',
      'h2: join as worker via h1 (198.18.0.11:2377), advertise 198.18.0.12',
      'h3: join as worker via h1 (198.18.0.11:2377), advertise 198.18.0.13',
    ])
    expect(result).toMatchObject({dryRun: true, changed: false, applied: []})
    expect(result.nodes.map((n: any) => [n.node, n.reachable, n.swarmState])).toEqual([['h1', true, 'inactive'], ['h2', true, 'inactive'], ['h3', true, 'inactive']])
    for (const node of LAB_NODES) expect((await swarmOf(node)).LocalNodeState).toBe('inactive')
  })

  it('refuses without a terminal and without --yes', async () => {
    const run = await runCtl(['node', 'bootstrap', 'lab'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/Refusing without confirmation/)
    expect((await swarmOf('h1')).LocalNodeState).toBe('inactive')
  })

  it('forms the swarm from three fresh engines: h1 manager, h2 and h3 workers', async () => {
    const started = Date.now()
    const run = await runCtl(['node', 'bootstrap', 'lab', '--yes', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const result = json(run)
    expect(result.changed).toBe(true)
    expect(result.applied).toHaveLength(3)
    process.stderr.write(`[node-bootstrap] formed in ${Date.now() - started} ms\n`)
    const [h1, h2, h3] = await Promise.all(LAB_NODES.map(swarmOf))
    expect(h1).toMatchObject({LocalNodeState: 'active', ControlAvailable: true})
    expect(h2).toMatchObject({LocalNodeState: 'active', ControlAvailable: false})
    expect(h3).toMatchObject({LocalNodeState: 'active', ControlAvailable: false})
    const listed = (await docker('h1', ['node', 'ls', '--format', '{{.ID}}|{{.Status}}|{{.ManagerStatus}}'])).stdout.split('\n')
    expect(Object.fromEntries(listed.map((line) => [line.split('|')[0], line.split('|').slice(1)]))).toEqual({
      [h1!.NodeID]: ['Ready', 'Leader'],
      [h2!.NodeID]: ['Ready', ''],
      [h3!.NodeID]: ['Ready', ''],
    })
    // The overlay address pool of the inventory is the swarm's.
    expect((await docker('h1', ['info', '--format', '{{json .Swarm.Cluster.DefaultAddrPool}}'])).stdout).toBe('["198.19.64.0/18"]')
  })

  it('changes nothing on a second run, and says so', async () => {
    const run = await runCtl(['node', 'bootstrap', 'lab', '--yes'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stdout).toContain('No changes: the swarm already matches the inventory.')
    const again = json(await runCtl(['node', 'bootstrap', 'lab', '--json']))
    expect(again).toMatchObject({changed: false, steps: [], unchanged: ['h1', 'h2', 'h3']})
  })

  it('joins a node that left again, and removes its old entry', async () => {
    const oldId = (await swarmOf('h3')).NodeID
    await docker('h3', ['swarm', 'leave', '--force'])
    const result = json(await runCtl(['node', 'bootstrap', 'lab', '--yes', '--json']))
    expect(result.applied).toEqual(['h3: join as worker via h1 (198.18.0.11:2377), advertise 198.18.0.13', `h3: remove its old swarm entry ${oldId.slice(0, 12)} (replaced)`])
    const ids = (await docker('h1', ['node', 'ls', '--format', '{{.ID}}'])).stdout.split('\n')
    expect(ids).toHaveLength(3)
    expect(ids).not.toContain(oldId)
    expect(ids).toContain((await swarmOf('h3')).NodeID)
  })

  it('refuses an even number of managers before any change', async () => {
    const inventory = labInventoryCopy((inv) => (inv.nodes[1].role = 'manager'))
    const run = await runCtl(['node', 'bootstrap', inventory, '--yes', '--json'])
    expect(run.exitCode).toBe(2)
    expect(json(run).message).toMatch(/the inventory names 2 managers: an even number/)
    expect((await swarmOf('h2')).ControlAvailable).toBe(false)
  })

  it('refuses when a node is unreachable, naming it', async () => {
    const inventory = labInventoryCopy((inv) => {
      inv.ssh.connectTimeoutMs = 2000
      inv.nodes.push({name: 'h9', address: '198.18.0.99', role: 'worker', labels: {type: 'service'}})
    })
    const run = await runCtl(['node', 'bootstrap', inventory, '--yes', '--json'])
    expect(run.exitCode).toBe(2)
    const error = json(run)
    expect(error.message).toMatch(/- h9: unreachable: Cannot connect to h9 \(root@198\.18\.0\.99\): /)
    expect(error.host).toBe('h9')
  })
})
