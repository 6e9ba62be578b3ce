import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {docker, labInventoryCopy, swarmOf} from './support/swarm.js'

// Labels, listing, drain and activate against the lab's swarm (formed first if needed). Test
// services are named ctltest-*, removed at the end; h2 ends active with the inventory's labels.
const MOVING = 'ctltest-spread'
const PINNED = 'ctltest-pinned'

async function nodeId(node: string): Promise<string> {
  return (await swarmOf(node)).NodeID
}
async function labelsOf(node: string): Promise<Record<string, string>> {
  return JSON.parse((await docker('h1', ['node', 'inspect', await nodeId(node), '--format', '{{json .Spec.Labels}}'])).stdout) ?? {}
}
/**
 * Removes the labels these tests add (ctltest.*, zone) from every node, each one present on its own:
 * `--label-rm` of a key a node lacks fails the whole update, which once left ctltest.pin behind.
 */
async function clearTestLabels(): Promise<void> {
  for (const node of ['h1', 'h2', 'h3']) {
    const keys = Object.keys(await labelsOf(node)).filter((k) => k.startsWith('ctltest.') || k === 'zone')
    if (keys.length > 0) await docker('h1', ['node', 'update', ...keys.flatMap((k) => ['--label-rm', k]), await nodeId(node)])
  }
}
async function availabilityOf(node: string): Promise<string> {
  return (await docker('h1', ['node', 'inspect', await nodeId(node), '--format', '{{.Spec.Availability}}'])).stdout
}
/** Node IDs of the service's tasks that run (desired and actual state running). */
async function runningOn(service: string): Promise<string[]> {
  const out = (await docker('h1', ['service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.ID}}'])).stdout
  const ids = out.split('\n').filter(Boolean)
  if (ids.length === 0) return []
  const tasks = JSON.parse((await docker('h1', ['inspect', ...ids])).stdout) as {NodeID: string; Status: {State: string}}[]
  return tasks.filter((t) => t.Status.State === 'running').map((t) => t.NodeID)
}
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}
async function removeTestServices(): Promise<void> {
  await docker('h1', ['service', 'rm', MOVING, PINNED], {reject: false})
}

describe('ctl node label / ls / drain / activate on the lab swarm', () => {
  beforeAll(async () => {
    const formed = await runCtl(['node', 'bootstrap', 'lab', '--yes', '--json'])
    expect(formed.exitCode, formed.stderr).toBe(0)
    await removeTestServices()
    await clearTestLabels()
  })
  afterAll(async () => {
    await removeTestServices()
    await clearTestLabels()
    await runCtl(['node', 'activate', 'lab', 'h2', '--yes'])
    const labelled = await runCtl(['node', 'label', 'lab', '--yes'])
    expect(labelled.exitCode, labelled.stderr).toBe(0)
  })

  it('applies the inventory labels, and corrects a manual change on a managed key as drift', async () => {
    expect((await runCtl(['node', 'label', 'lab', '--yes'])).exitCode).toBe(0)
    // By hand: a managed key changed, and an unmanaged one added.
    await docker('h1', ['node', 'update', '--label-add', 'type=db', '--label-add', 'ctltest.keep=yes', await nodeId('h2')])

    const listed = await runCtl(['node', 'ls', 'lab', '--json'])
    expect(listed.exitCode, `${listed.stdout}${listed.stderr}\nh2's labels now: ${JSON.stringify(await labelsOf('h2'))}`).toBe(1)
    const rows = json(listed).nodes
    expect(rows.find((r: any) => r.name === 'h2').drift).toEqual(['label ~ type: db → service'])
    // The others have none; the backup host h4 (role none) is listed, outside the Swarm, with none either.
    expect(rows.filter((r: any) => r.name !== 'h2').map((r: any) => [r.name, r.drift])).toEqual([
      ['h1', []],
      ['h3', []],
      ['h4', []],
    ])

    const dry = json(await runCtl(['node', 'label', 'lab', '--dry-run', '--json']))
    expect(dry.nodes.find((n: any) => n.node === 'h2').changes).toEqual([{key: 'type', action: 'change', from: 'db', to: 'service'}])
    expect((await labelsOf('h2')).type).toBe('db')

    const refused = await runCtl(['node', 'label', 'lab'])
    expect(refused.exitCode).toBe(2)
    expect((await labelsOf('h2')).type).toBe('db')

    const applied = json(await runCtl(['node', 'label', 'lab', '--yes', '--json']))
    expect(applied).toMatchObject({applied: ['h2'], changed: true})
    expect(await labelsOf('h2')).toEqual({'ctltest.keep': 'yes', type: 'service'})
    expect((await runCtl(['node', 'ls', 'lab'])).exitCode).toBe(0)
    await docker('h1', ['node', 'update', '--label-rm', 'ctltest.keep', await nodeId('h2')])
  })

  it('removes a managed label the inventory does not give the node', async () => {
    const inventory = labInventoryCopy((inv) => (inv.swarm.managedLabelKeys = ['type', 'zone']))
    await docker('h1', ['node', 'update', '--label-add', 'zone=b', await nodeId('h2')])
    const result = json(await runCtl(['node', 'label', inventory, '--yes', '--json']))
    expect(result.nodes.find((n: any) => n.node === 'h2').changes).toEqual([{key: 'zone', action: 'remove', from: 'b'}])
    expect(await labelsOf('h2')).toEqual({type: 'service'})
  })

  it('drain refuses up front when a task has nowhere to go, and says why', async () => {
    await docker('h1', ['node', 'update', '--label-add', 'ctltest.pin=yes', await nodeId('h2')])
    await docker('h1', ['service', 'create', '--detach', '--name', PINNED, '--constraint', 'node.labels.ctltest.pin==yes', 'ctl-lab/app:v1'])
    await waitFor(`${PINNED} running`, async () => (await runningOn(PINNED)).length === 1)
    const run = await runCtl(['node', 'drain', 'lab', 'h2', '--yes', '--json'])
    expect(run.exitCode).toBe(2)
    const error = json(run)
    expect(error.error).toBe('swarm.drain-stuck')
    expect(error.message).toContain(`- ${PINNED}: constraints [node.labels.ctltest.pin==yes] match no other active node`)
    expect(await availabilityOf('h2')).toBe('active')
  })

  it('drain moves a running service away from the node; tasks that cannot move are reported; activate brings it back', async () => {
    await docker('h1', ['service', 'create', '--detach', '--name', MOVING, '--replicas', '3', '--constraint', 'node.labels.type==service', 'ctl-lab/app:v1'])
    const h2 = await nodeId('h2')
    await waitFor(`${MOVING} 3/3 running`, async () => (await runningOn(MOVING)).length === 3)
    expect(await runningOn(MOVING)).toContain(h2)

    const dry = json(await runCtl(['node', 'drain', 'lab', 'h2', '--dry-run', '--json']))
    expect(dry.prediction.moves).toEqual([expect.objectContaining({service: MOVING, tasks: 1})])
    expect(dry.prediction.cannotMove).toEqual([expect.objectContaining({service: PINNED, tasks: 1})])
    expect(await availabilityOf('h2')).toBe('active')

    const started = Date.now()
    const run = await runCtl(['node', 'drain', 'lab', 'h2', '--yes', '--force', '--json', '--timeout', '120'])
    process.stderr.write(`[node-drain] drain with one stuck service answered in ${Date.now() - started} ms\n`)
    expect(run.exitCode).toBe(1)
    const result = json(run)
    expect(result.moved).toBe(false)
    expect(result.progress.cannotMove).toEqual([{service: PINNED, reason: expect.stringMatching(/no suitable node/)}])
    expect(result.progress.waiting).toEqual([])
    expect(await availabilityOf('h2')).toBe('drain')
    const where = await runningOn(MOVING)
    expect(where).toHaveLength(3)
    expect(where).not.toContain(h2)

    const listed = json(await runCtl(['node', 'ls', 'lab', '--json']))
    expect(listed.nodes.find((r: any) => r.name === 'h2').drift).toEqual(['availability drain'])

    const activated = json(await runCtl(['node', 'activate', 'lab', 'h2', '--json']))
    expect(activated).toMatchObject({was: 'drain', availability: 'active', changed: true})
    expect(await availabilityOf('h2')).toBe('active')
    // The pinned service can run again on its node.
    await waitFor(`${PINNED} back on h2`, async () => (await runningOn(PINNED)).includes(h2))
  })

  it('drain waits until every task runs elsewhere when all can move', async () => {
    await docker('h1', ['service', 'rm', PINNED])
    await docker('h1', ['service', 'update', '--detach', '--force', MOVING])
    await waitFor(`${MOVING} spread over 3 nodes`, async () => new Set(await runningOn(MOVING)).size === 3)
    const run = await runCtl(['node', 'drain', 'lab', 'h2', '--yes', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const result = json(run)
    expect(result).toMatchObject({moved: true, progress: {done: true, cannotMove: [], waiting: []}})
    expect(result.waitedMs).toBeLessThan(60_000)
    const where = await runningOn(MOVING)
    expect(where).toHaveLength(3)
    expect(where).not.toContain(await nodeId('h2'))
    expect((await runCtl(['node', 'activate', 'lab', 'h2', '--yes'])).exitCode).toBe(0)
    expect(await availabilityOf('h2')).toBe('active')
  })
})
