import {describe, expect, it} from 'vitest'
import {describeStep, planBootstrap, type NodeFacts} from '../../../src/swarm/bootstrap-plan.js'
import {factsMap, freshFacts, inSwarm, inventoryOf, swarmNode} from './fixtures.js'

const options = {installDocker: false, minEngineVersion: '20.10'}
const steps = (inv: ReturnType<typeof inventoryOf>, facts: Map<string, NodeFacts>, opts = options) => planBootstrap(inv, facts, opts).steps.map(describeStep)

describe('planBootstrap: forming a swarm', () => {
  it('inits on the first manager and joins the others, managers before workers', () => {
    const inv = inventoryOf(['w1:worker', 'm1:manager', 'm2:manager', 'm3:manager', 'w2:worker'])
    const plan = planBootstrap(inv, factsMap(...['w1', 'm1', 'm2', 'm3', 'w2'].map(freshFacts)), options)
    expect(plan.blockers).toEqual([])
    expect(plan.steps.map(describeStep)).toEqual([
      'm1: swarm init, advertise 10.0.0.2',
      'm2: join as manager via m1 (10.0.0.2:2377), advertise 10.0.0.3',
      'm3: join as manager via m1 (10.0.0.2:2377), advertise 10.0.0.4',
      'w1: join as worker via m1 (10.0.0.2:2377), advertise 10.0.0.1',
      'w2: join as worker via m1 (10.0.0.2:2377), advertise 10.0.0.5',
    ])
  })

  it('passes the inventory address pool to init', () => {
    const inv = inventoryOf(['m1:manager'], {swarm: {defaultAddrPool: '198.19.64.0/18'}})
    expect(planBootstrap(inv, factsMap(freshFacts('m1')), options).steps).toEqual([
      {kind: 'init', node: 'm1', advertiseAddress: '10.0.0.1', defaultAddrPool: '198.19.64.0/18'},
    ])
  })

  it('leaves role-none hosts out', () => {
    const inv = inventoryOf(['m1:manager', 'plain:none'])
    expect(steps(inv, factsMap(freshFacts('m1')))).toEqual(['m1: swarm init, advertise 10.0.0.1'])
  })
})

describe('planBootstrap: an existing swarm', () => {
  const cluster = [swarmNode('id-m1', '10.0.0.1', 'manager', {leader: true}), swarmNode('id-w1', '10.0.0.2', 'worker')]

  it('says nothing to do when every node is in with the right role', () => {
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    const plan = planBootstrap(inv, factsMap(inSwarm('m1', 'id-m1', 'manager', 'C1', cluster), inSwarm('w1', 'id-w1', 'worker', 'C1')), options)
    expect(plan).toMatchObject({blockers: [], steps: [], unchanged: ['m1', 'w1'], clusterId: 'C1'})
  })

  it('joins only the missing nodes, through the leader at its manager address', () => {
    const inv = inventoryOf(['m1:manager', 'w1:worker', 'w2:worker'])
    const plan = planBootstrap(
      inv,
      factsMap(inSwarm('m1', 'id-m1', 'manager', 'C1', cluster), inSwarm('w1', 'id-w1', 'worker', 'C1'), freshFacts('w2')),
      options,
    )
    expect(plan.steps.map(describeStep)).toEqual(['w2: join as worker via m1 (10.0.0.1:2377), advertise 10.0.0.3'])
    expect(plan.unchanged).toEqual(['m1', 'w1'])
  })

  it('joins through the leader even when it is not the first manager', () => {
    const three = [swarmNode('id-a', '10.0.0.1', 'manager'), swarmNode('id-b', '10.0.0.2', 'manager', {leader: true}), swarmNode('id-c', '10.0.0.3', 'manager')]
    const inv = inventoryOf(['a:manager', 'b:manager', 'c:manager', 'w:worker'])
    const facts = factsMap(
      inSwarm('a', 'id-a', 'manager', 'C1', three),
      inSwarm('b', 'id-b', 'manager', 'C1', three),
      inSwarm('c', 'id-c', 'manager', 'C1', three),
      freshFacts('w'),
    )
    expect(steps(inv, facts)).toEqual(['w: join as worker via b (10.0.0.2:2377), advertise 10.0.0.4'])
  })

  it('promotes a worker the inventory calls a manager, before demoting', () => {
    const c = [
      swarmNode('id-a', '10.0.0.1', 'manager', {leader: true}),
      swarmNode('id-b', '10.0.0.2', 'manager'),
      swarmNode('id-c', '10.0.0.3', 'worker'),
      swarmNode('id-d', '10.0.0.4', 'worker'),
    ]
    const inv = inventoryOf(['a:manager', 'b:worker', 'c:manager', 'd:manager'])
    const facts = factsMap(
      inSwarm('a', 'id-a', 'manager', 'C1', c),
      inSwarm('b', 'id-b', 'manager', 'C1', c),
      inSwarm('c', 'id-c', 'worker', 'C1'),
      inSwarm('d', 'id-d', 'worker', 'C1'),
    )
    expect(steps(inv, facts)).toEqual(['c: promote to manager (via a)', 'd: promote to manager (via a)', 'b: demote to worker (via a)'])
  })

  it('notes swarm nodes the inventory does not know, and leaves them', () => {
    const withStranger = [...cluster, swarmNode('id-x', '10.9.9.9', 'worker', {hostname: 'old-box'})]
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    const plan = planBootstrap(inv, factsMap(inSwarm('m1', 'id-m1', 'manager', 'C1', withStranger), inSwarm('w1', 'id-w1', 'worker', 'C1')), options)
    expect(plan.steps).toEqual([])
    expect(plan.notes).toEqual(['the swarm has nodes not in the inventory (left alone): old-box'])
  })
})

describe('planBootstrap: refusals before any change', () => {
  const blockers = (inv: ReturnType<typeof inventoryOf>, facts: Map<string, NodeFacts>, opts = options) =>
    planBootstrap(inv, facts, opts).blockers.map((b) => `${b.node ?? '-'}: ${b.reason}`)

  it.each([
    [['m1:manager', 'm2:manager', 'w:worker'], /^-: the inventory names 2 managers: an even number/],
    [['w1:worker', 'w2:worker'], /^-: the inventory names no manager$/],
  ])('refuses an inventory with managers %j', (spec, expected) => {
    const inv = inventoryOf(spec)
    const result = blockers(inv, factsMap(...inv.nodes.map((n) => freshFacts(n.name))))
    expect(result).toHaveLength(1)
    expect(result[0]).toMatch(expected)
  })

  it('refuses when a node is unreachable, naming it and why', () => {
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    expect(blockers(inv, factsMap(freshFacts('m1'), {node: 'w1', reachable: false, error: 'Cannot connect to w1: ECONNREFUSED'}))).toEqual([
      'w1: unreachable: Cannot connect to w1: ECONNREFUSED',
    ])
  })

  it('refuses a worker that is in another swarm', () => {
    const ours = [swarmNode('id-m1', '10.0.0.1', 'manager', {leader: true})]
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    const foreign: NodeFacts = inSwarm('w1', 'id-zz', 'worker', 'C9', [])
    foreign.engine!.swarm.remoteManagers = [{nodeId: 'id-other', address: '10.7.7.7:2377'}]
    expect(blockers(inv, factsMap(inSwarm('m1', 'id-m1', 'manager', 'C1', ours), foreign))).toEqual(['w1: already in another swarm (managers 10.7.7.7:2377)'])
  })

  it('refuses a fresh swarm when a worker already belongs to some swarm', () => {
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    const foreign = inSwarm('w1', 'id-zz', 'worker', 'C9')
    foreign.engine!.swarm.remoteManagers = [{nodeId: 'id-other', address: '10.7.7.7:2377'}]
    expect(blockers(inv, factsMap(freshFacts('m1'), foreign))).toEqual(['w1: already in another swarm (managers 10.7.7.7:2377)'])
  })

  it('refuses when inventory managers lead different swarms', () => {
    const inv = inventoryOf(['a:manager', 'b:manager', 'c:manager'])
    const facts = factsMap(
      inSwarm('a', 'id-a', 'manager', 'aaaaaaaaaaaa-one', [swarmNode('id-a', '10.0.0.1', 'manager', {leader: true})]),
      inSwarm('b', 'id-b', 'manager', 'bbbbbbbbbbbb-two', [swarmNode('id-b', '10.0.0.2', 'manager', {leader: true})]),
      freshFacts('c'),
    )
    expect(blockers(inv, facts)).toEqual(['-: inventory nodes manage different swarms (a in aaaaaaaaaaaa; b in bbbbbbbbbbbb)'])
  })

  it('refuses an old Engine, a locked swarm and a missing Engine, each with its own reason', () => {
    const inv = inventoryOf(['m1:manager', 'w1:worker', 'w2:worker'])
    const old = freshFacts('m1')
    old.engine!.version = '19.03.15'
    const locked = freshFacts('w1')
    locked.engine!.swarm.state = 'locked'
    const missing: NodeFacts = {node: 'w2', reachable: true, probe: {os: freshFacts('x').probe!.os, dockerInstalled: false}, engineError: 'cannot open socket'}
    expect(blockers(inv, factsMap(old, locked, missing))).toEqual([
      'm1: Docker Engine 19.03.15 is older than 20.10 (swarm.minEngineVersion)',
      'w1: swarm state is "locked"',
      'w2: Docker Engine is not installed',
    ])
  })

  it('plans an install with --install-docker, first, and still forms the swarm after it', () => {
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    const missing: NodeFacts = {node: 'w1', reachable: true, probe: {os: freshFacts('x').probe!.os, dockerInstalled: false}}
    const plan = planBootstrap(inv, factsMap(freshFacts('m1'), missing), {...options, installDocker: true})
    expect(plan.blockers).toEqual([])
    expect(plan.steps.map(describeStep)).toEqual([
      'w1: install Docker Engine (docker.io) from the distribution',
      'm1: swarm init, advertise 10.0.0.1',
      'w1: join as worker via m1 (10.0.0.1:2377), advertise 10.0.0.2',
    ])
  })

  it('does not offer to install on a non-Debian host', () => {
    const inv = inventoryOf(['m1:manager'])
    const rocky: NodeFacts = {
      node: 'm1',
      reachable: true,
      probe: {os: {id: 'rocky', prettyName: 'Rocky Linux 9', family: ['rocky', 'rhel']}, dockerInstalled: false},
    }
    expect(blockers(inv, factsMap(rocky), {...options, installDocker: true})).toEqual([
      'm1: cannot install Docker on Rocky Linux 9: ctl installs it only on Debian and Ubuntu',
    ])
  })

  it('refuses an installed Engine that does not answer', () => {
    const inv = inventoryOf(['m1:manager'])
    const down: NodeFacts = {node: 'm1', reachable: true, probe: {os: freshFacts('x').probe!.os, dockerInstalled: true}, engineError: 'connect ENOENT'}
    expect(blockers(inv, factsMap(down), {...options, installDocker: true})).toEqual(['m1: Docker Engine is installed but does not answer: connect ENOENT'])
  })
})

describe('planBootstrap: a worker that runs its own swarm', () => {
  it('is reported as in another swarm, not as a second cluster of the inventory', () => {
    const ours = [swarmNode('id-m1', '10.0.0.1', 'manager', {leader: true})]
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    const rogue = inSwarm('w1', 'id-w1', 'manager', 'ffffffffffffffff', [swarmNode('id-w1', '10.0.0.2', 'manager', {leader: true})])
    const plan = planBootstrap(inv, factsMap(inSwarm('m1', 'id-m1', 'manager', 'C1', ours), rogue), options)
    expect(plan.blockers.map((b) => `${b.node}: ${b.reason}`)).toEqual(['w1: already in another swarm (cluster ffffffffffff)'])
  })

  it('is reported the same way when the inventory has no swarm yet', () => {
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    const rogue = inSwarm('w1', 'id-w1', 'manager', 'ffffffffffffffff', [swarmNode('id-w1', '10.0.0.2', 'manager', {leader: true})])
    expect(planBootstrap(inv, factsMap(freshFacts('m1'), rogue), options).blockers.map((b) => `${b.node}: ${b.reason}`)).toEqual([
      'w1: already in another swarm (cluster ffffffffffff)',
    ])
  })
})

describe('planBootstrap: advertise addresses', () => {
  it('advertises a private address when the inventory names one, and joins through it', () => {
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    inv.nodes[0]!.advertiseAddress = '192.168.100.1'
    inv.nodes[1]!.advertiseAddress = '192.168.100.2'
    expect(steps(inv, factsMap(freshFacts('m1'), freshFacts('w1')))).toEqual([
      'm1: swarm init, advertise 192.168.100.1',
      'w1: join as worker via m1 (192.168.100.1:2377), advertise 192.168.100.2',
    ])
  })

  it('brackets an IPv6 manager address', () => {
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    inv.nodes[0]!.address = 'fd00::1'
    expect(steps(inv, factsMap(freshFacts('m1'), freshFacts('w1')))[1]).toBe('w1: join as worker via m1 ([fd00::1]:2377), advertise 10.0.0.2')
  })
})

describe('planBootstrap: a known node whose engine does not answer', () => {
  it('is a blocker, and not mistaken for a node outside the inventory', () => {
    const cluster = [swarmNode('id-m1', '10.0.0.1', 'manager', {leader: true}), swarmNode('id-w1', '10.0.0.2', 'worker')]
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    const silent: NodeFacts = {node: 'w1', reachable: true, probe: freshFacts('w1').probe, engineError: 'Cannot open the Docker Engine socket'}
    const plan = planBootstrap(inv, factsMap(inSwarm('m1', 'id-m1', 'manager', 'C1', cluster), silent), options)
    expect(plan.notes).toEqual([])
    expect(plan.blockers.map((b) => `${b.node}: ${b.reason}`)).toEqual([
      'w1: Docker Engine is installed but does not answer: Cannot open the Docker Engine socket',
    ])
  })
})

describe('planBootstrap: old entries of rejoined nodes', () => {
  const inv = inventoryOf(['m1:manager', 'w1:worker'])
  it('removes the down entry of a worker that joined again with a new identity', () => {
    const cluster = [
      swarmNode('id-m1', '10.0.0.1', 'manager', {leader: true}),
      swarmNode('id-old', '10.0.0.2', 'worker', {state: 'down'}),
      swarmNode('id-new', '10.0.0.2', 'worker'),
    ]
    const plan = planBootstrap(inv, factsMap(inSwarm('m1', 'id-m1', 'manager', 'C1', cluster), inSwarm('w1', 'id-new', 'worker', 'C1')), options)
    expect(plan.steps.map(describeStep)).toEqual(['w1: remove its old swarm entry id-old (replaced)'])
    expect(plan.notes).toEqual([])
  })

  it('removes it after joining the node again in the same run', () => {
    const cluster = [swarmNode('id-m1', '10.0.0.1', 'manager', {leader: true}), swarmNode('id-old', '10.0.0.2', 'worker', {state: 'down'})]
    const plan = planBootstrap(inv, factsMap(inSwarm('m1', 'id-m1', 'manager', 'C1', cluster), freshFacts('w1')), options)
    expect(plan.steps.map(describeStep)).toEqual([
      'w1: join as worker via m1 (10.0.0.1:2377), advertise 10.0.0.2',
      'w1: remove its old swarm entry id-old (replaced)',
    ])
  })

  it('leaves a down node that has not been replaced (it may just be rebooting)', () => {
    const cluster = [swarmNode('id-m1', '10.0.0.1', 'manager', {leader: true}), swarmNode('id-w1', '10.0.0.2', 'worker', {state: 'down'})]
    const plan = planBootstrap(inv, factsMap(inSwarm('m1', 'id-m1', 'manager', 'C1', cluster), inSwarm('w1', 'id-w1', 'worker', 'C1')), options)
    expect(plan.steps).toEqual([])
  })
})

describe('planBootstrap: old entries the manager still lists as ready', () => {
  it('plans the removal right after the rejoin (the executor waits for it to go down)', () => {
    const inv = inventoryOf(['m1:manager', 'w1:worker'])
    const cluster = [swarmNode('id-m1', '10.0.0.1', 'manager', {leader: true}), swarmNode('id-old', '10.0.0.2', 'worker')]
    expect(steps(inv, factsMap(inSwarm('m1', 'id-m1', 'manager', 'C1', cluster), freshFacts('w1')))).toEqual([
      'w1: join as worker via m1 (10.0.0.1:2377), advertise 10.0.0.2',
      'w1: remove its old swarm entry id-old (replaced)',
    ])
  })

  it('never plans to remove an entry an inventory engine claims (two nodes behind one address)', () => {
    const inv = inventoryOf(['m1:manager', 'w1:worker', 'w2:worker'])
    inv.nodes[2]!.address = '10.0.0.2'
    const cluster = [
      swarmNode('id-m1', '10.0.0.1', 'manager', {leader: true}),
      swarmNode('id-w1', '10.0.0.2', 'worker'),
      swarmNode('id-w2', '10.0.0.2', 'worker'),
    ]
    const facts = factsMap(inSwarm('m1', 'id-m1', 'manager', 'C1', cluster), inSwarm('w1', 'id-w1', 'worker', 'C1'), inSwarm('w2', 'id-w2', 'worker', 'C1'))
    expect(planBootstrap(inv, facts, options).steps).toEqual([])
  })
})
