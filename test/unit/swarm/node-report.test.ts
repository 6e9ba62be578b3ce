import {describe, expect, it} from 'vitest'
import {compareNodes} from '../../../src/swarm/node-report.js'
import {findSwarmNode} from '../../../src/swarm/match.js'
import {inventoryOf, swarmNode} from './fixtures.js'

describe('compareNodes (ctl node ls)', () => {
  const inv = inventoryOf(['a:manager:service', 'b:worker:service', 'c:worker:db', 'd:none'])

  it('marks every kind of drift, and nodes the inventory does not know', () => {
    const live = [
      swarmNode('id-a', '10.0.0.1', 'manager', {leader: true, labels: {type: 'service'}}),
      swarmNode('id-b', '10.0.0.2', 'manager', {labels: {type: 'service'}, reachability: 'unreachable', availability: 'drain'}),
      swarmNode('id-x', '10.9.9.9', 'worker', {hostname: 'old', state: 'down'}),
    ]
    const rows = compareNodes(inv, live)
    expect(rows.map((r) => [r.name, r.drift])).toEqual([
      ['a', []],
      ['b', ['role manager, inventory says worker', 'availability drain', 'manager unreachable']],
      ['c', ['not in the swarm']],
      ['d', []],
      ['old', ['not in the inventory (down: the old entry of a node that left or was rebuilt? `ctl node bootstrap` removes it once the node is back)']],
    ])
    expect(rows[0]).toMatchObject({leader: true, role: 'manager', status: 'ready', engineVersion: '20.10.24', labels: {type: 'service'}})
  })

  it('reports label drift on managed keys and an old Engine', () => {
    const live = [
      swarmNode('id-a', '10.0.0.1', 'manager', {labels: {type: 'db', extra: 'x'}, engineVersion: '19.03.1'}),
      swarmNode('id-b', '10.0.0.2', 'worker', {labels: {type: 'service'}, state: 'down'}),
      swarmNode('id-c', '10.0.0.3', 'worker', {labels: {}}),
    ]
    expect(
      compareNodes(inv, live)
        .slice(0, 3)
        .map((r) => r.drift),
    ).toEqual([['Engine older than 20.10', 'label ~ type: db → service'], ['status down'], ['label + type=db']])
  })
})

describe('findSwarmNode', () => {
  const node = inventoryOf(['app-1:worker']).nodes[0]!
  it.each([
    ['by Status.Addr', [swarmNode('x', '10.0.0.1', 'worker')], 'x'],
    ['by manager address', [swarmNode('x', '0.0.0.0', 'manager', {managerAddress: '10.0.0.1:2377'})], 'x'],
    [
      'the live one when a stale entry has the same address',
      [swarmNode('old', '10.0.0.1', 'worker', {state: 'down'}), swarmNode('new', '10.0.0.1', 'worker')],
      'new',
    ],
    ['by hostname when the address differs (NAT, DNS name)', [swarmNode('x', '172.16.0.5', 'worker', {hostname: 'app-1'})], 'x'],
    [
      'nothing when two nodes share the hostname',
      [swarmNode('x', '172.16.0.5', 'worker', {hostname: 'app-1'}), swarmNode('y', '172.16.0.6', 'worker', {hostname: 'app-1'})],
      undefined,
    ],
  ])('%s', (_, nodes, expected) => {
    expect(findSwarmNode(node, nodes)?.id).toBe(expected)
  })
})

describe('findSwarmNode with an advertise address', () => {
  it('finds the node by the private address it advertised', () => {
    const node = {...inventoryOf(['app-1:worker']).nodes[0]!, address: '203.0.113.5', advertiseAddress: '10.1.0.5'}
    expect(findSwarmNode(node, [swarmNode('x', '10.1.0.5', 'worker', {hostname: 'other'})])?.id).toBe('x')
  })
})
