import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, projectRoot, runCtl} from '../support/cli.js'
import {docker as dockerIn, labInventoryCopy, LAB_NODES, leaveSwarmEverywhere, swarmOf as swarmIn} from './support/swarm.js'

// `ctl node bootstrap` against three real engines of a lab instance of its own (CTL_LAB_INSTANCE=41:
// ctl-lab41-h1..3, 198.18.41.0/24, hosts and dockerd only), so the shared lab's swarm, which the
// other tests use, is never taken apart. The engines start fresh: each leaves any swarm first.
const INSTANCE = {CTL_LAB_INSTANCE: '41'}
const RUN_DIR = '/run/ctl-lab41'
const docker = (node: string, args: string[], options: {reject?: boolean} = {}) => dockerIn(node, args, {...options, runDir: RUN_DIR})
const swarmOf = (node: string) => swarmIn(node, RUN_DIR)
let inventory: string

describe('ctl node bootstrap (lab instance 41)', () => {
  beforeAll(async () => {
    const up = await runCtl(['lab', 'up', '--hosts', '3', '--only', 'hosts', '--only', 'docker', '--json'], {env: INSTANCE})
    expect(up.exitCode, up.stdout + up.stderr).toBe(0)
    // The generated inventory, with the shared lab's overlay address pool.
    inventory = labInventoryCopy((inv) => (inv.swarm = {defaultAddrPool: '198.19.64.0/18'}), {
      from: join(projectRoot, '.lab', 'lab41-3.yml'),
      name: 'lab41.yml',
    })
    await leaveSwarmEverywhere(RUN_DIR)
  })
  afterAll(async () => {
    const down = await runCtl(['lab', 'down', '--yes', '--json'], {env: INSTANCE})
    expect(down.exitCode, down.stdout + down.stderr).toBe(0)
  })

  it('refuses before any change when a node is already in another swarm', async () => {
    await docker('h3', ['swarm', 'init', '--advertise-addr', '198.18.41.13', '--default-addr-pool', '198.19.64.0/18'])
    const run = await runCtl(['node', 'bootstrap', inventory, '--yes', '--json'])
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
    const run = await runCtl(['node', 'bootstrap', inventory, '--dry-run', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const result = json(run)
    expect(result.steps.map((s: any) => s.description)).toEqual([
      'h1: swarm init, advertise 198.18.41.11, default address pool 198.19.64.0/18',
      'h2: join as worker via h1 (198.18.41.11:2377), advertise 198.18.41.12',
      'h3: join as worker via h1 (198.18.41.11:2377), advertise 198.18.41.13',
    ])
    expect(result).toMatchObject({dryRun: true, changed: false, applied: []})
    expect(result.nodes.map((n: any) => [n.node, n.reachable, n.swarmState])).toEqual([
      ['h1', true, 'inactive'],
      ['h2', true, 'inactive'],
      ['h3', true, 'inactive'],
    ])
    for (const node of LAB_NODES) expect((await swarmOf(node)).LocalNodeState).toBe('inactive')
  })

  it('refuses without a terminal and without --yes', async () => {
    const run = await runCtl(['node', 'bootstrap', inventory])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/Refusing without confirmation/)
    expect((await swarmOf('h1')).LocalNodeState).toBe('inactive')
  })

  it('forms the swarm from three fresh engines: h1 manager, h2 and h3 workers', async () => {
    const started = Date.now()
    const run = await runCtl(['node', 'bootstrap', inventory, '--yes', '--json'])
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
    const run = await runCtl(['node', 'bootstrap', inventory, '--yes'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stdout).toContain('No changes: the swarm already matches the inventory.')
    const again = json(await runCtl(['node', 'bootstrap', inventory, '--json']))
    expect(again).toMatchObject({changed: false, steps: [], unchanged: ['h1', 'h2', 'h3']})
  })

  it('joins a node that left again, and removes its old entry', async () => {
    const oldId = (await swarmOf('h3')).NodeID
    await docker('h3', ['swarm', 'leave', '--force'])
    const result = json(await runCtl(['node', 'bootstrap', inventory, '--yes', '--json']))
    expect(result.applied).toEqual([
      'h3: join as worker via h1 (198.18.41.11:2377), advertise 198.18.41.13',
      `h3: remove its old swarm entry ${oldId.slice(0, 12)} (replaced)`,
    ])
    const ids = (await docker('h1', ['node', 'ls', '--format', '{{.ID}}'])).stdout.split('\n')
    expect(ids).toHaveLength(3)
    expect(ids).not.toContain(oldId)
    expect(ids).toContain((await swarmOf('h3')).NodeID)
  })

  it('follows the inventory to three managers (promote) and back to one (demote)', async () => {
    // Manager status as the leader lists it, by hostname: Leader, Reachable, or '' for a worker.
    const managerStatus = async () => (await docker('h1', ['node', 'ls', '--format', '{{.Hostname}}={{.ManagerStatus}}'])).stdout.split('\n').sort()
    const three = labInventoryCopy((inv) => inv.nodes.forEach((n: any) => (n.role = 'manager')), {from: inventory, name: 'lab41.yml'})
    const up = json(await runCtl(['node', 'bootstrap', three, '--yes', '--json']))
    expect(up.applied).toEqual(['h2: promote to manager (via h1)', 'h3: promote to manager (via h1)'])
    expect(await managerStatus()).toEqual(['h1=Leader', 'h2=Reachable', 'h3=Reachable'])
    const down = json(await runCtl(['node', 'bootstrap', inventory, '--yes', '--json']))
    expect(down.applied).toEqual(['h2: demote to worker (via h1)', 'h3: demote to worker (via h1)'])
    expect(await managerStatus()).toEqual(['h1=Leader', 'h2=', 'h3='])
  })

  it('refuses an even number of managers before any change', async () => {
    const even = labInventoryCopy((inv) => (inv.nodes[1].role = 'manager'), {from: inventory})
    const run = await runCtl(['node', 'bootstrap', even, '--yes', '--json'])
    expect(run.exitCode).toBe(2)
    expect(json(run).message).toMatch(/the inventory names 2 managers: an even number/)
    expect((await swarmOf('h2')).ControlAvailable).toBe(false)
  })

  it('refuses when a node is unreachable, naming it', async () => {
    const withGhost = labInventoryCopy(
      (inv) => {
        inv.ssh.connectTimeoutMs = 2000
        inv.nodes.push({name: 'h9', address: '198.18.41.99', role: 'worker', labels: {type: 'service'}})
      },
      {from: inventory},
    )
    const run = await runCtl(['node', 'bootstrap', withGhost, '--yes', '--json'])
    expect(run.exitCode).toBe(2)
    const error = json(run)
    expect(error.message).toMatch(/- h9: unreachable: Cannot connect to h9 \(root@198\.18\.41\.99\): /)
    expect(error.host).toBe('h9')
  })
})
