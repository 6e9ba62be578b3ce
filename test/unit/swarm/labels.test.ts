import {describe, expect, it} from 'vitest'
import {describeLabelChange, labelDiff, managedLabelKeys, planLabelChanges} from '../../../src/swarm/labels.js'
import {inventoryOf, swarmNode} from './fixtures.js'

describe('managed label keys', () => {
  it('are the keys the inventory uses, unless swarm.managedLabelKeys names them', () => {
    expect(managedLabelKeys(inventoryOf(['a:manager:service', 'b:worker:db']))).toEqual(['type'])
    expect(managedLabelKeys(inventoryOf(['a:manager'], {swarm: {managedLabelKeys: ['type', 'zone']}}))).toEqual(['type', 'zone'])
  })
})

describe('labelDiff', () => {
  const managed = new Set(['type', 'zone'])
  it.each([
    [{type: 'db'}, {}, ['+ type=db']],
    [{type: 'db'}, {type: 'service'}, ['~ type: service → db']],
    [{}, {zone: 'a'}, ['- zone=a']],
    [{type: 'db'}, {type: 'db', other: 'x'}, []],
    [{type: 'db', zone: 'b'}, {zone: 'a', unmanaged: 'kept'}, ['+ type=db', '~ zone: a → b']],
  ])('wanted %j, actual %j → %j', (wanted, actual, expected) => {
    expect(labelDiff(wanted, actual, managed).map(describeLabelChange)).toEqual(expected)
  })
})

describe('planLabelChanges', () => {
  it('changes only managed keys and keeps the other labels in the new set', () => {
    const inv = inventoryOf(['a:manager:service', 'b:worker:db', 'c:worker:db'])
    const live = [
      swarmNode('id-a', '10.0.0.1', 'manager', {labels: {type: 'service', 'com.example.team': 'ops'}}),
      swarmNode('id-b', '10.0.0.2', 'worker', {labels: {type: 'service', 'com.example.team': 'db'}}),
    ]
    expect(planLabelChanges(inv, live)).toEqual([
      {node: 'a', swarmNodeId: 'id-a', changes: [], labelsAfter: {type: 'service', 'com.example.team': 'ops'}},
      {
        node: 'b',
        swarmNodeId: 'id-b',
        changes: [{key: 'type', action: 'change', from: 'service', to: 'db'}],
        labelsAfter: {type: 'db', 'com.example.team': 'db'},
      },
      {node: 'c', changes: [], labelsAfter: {}},
    ])
  })

  it('removes a managed key the inventory does not give the node', () => {
    const inv = inventoryOf(['a:manager'], {swarm: {managedLabelKeys: ['type', 'zone']}})
    const plan = planLabelChanges(inv, [swarmNode('id-a', '10.0.0.1', 'manager', {labels: {type: 'service', zone: 'x'}})])
    expect(plan[0]).toMatchObject({changes: [{key: 'zone', action: 'remove', from: 'x'}], labelsAfter: {type: 'service'}})
  })
})
