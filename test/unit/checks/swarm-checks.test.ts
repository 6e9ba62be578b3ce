import {describe, expect, it} from 'vitest'
import {judgeSwarm} from '../../../src/checks/all/swarm.js'
import {judgeNodeLabels} from '../../../src/checks/all/node-labels.js'
import {judgePlacement} from '../../../src/checks/all/placement.js'
import {inventorySchema} from '../../../src/inventory/schema/index.js'
import type {SwarmNodeView} from '../../../src/swarm/views.js'

const inventory = inventorySchema.parse({
  name: 'prod',
  nodes: [
    {name: 'm1', address: '10.0.0.1', role: 'manager', labels: {type: 'service'}},
    {name: 'w1', address: '10.0.0.2', role: 'worker', labels: {type: 'db'}},
    {name: 'w2', address: '10.0.0.3', role: 'worker', labels: {type: 'db'}},
  ],
})
const swarmNodes = inventory.nodes.filter((n) => n.role !== 'none')

function view(address: string, over: Partial<SwarmNodeView> = {}): SwarmNodeView {
  return {
    id: `id-${address}`,
    hostname: 'lab',
    address,
    role: 'worker',
    availability: 'active',
    state: 'ready',
    leader: false,
    labels: {},
    version: 1,
    spec: {},
    ...over,
  }
}
const healthy = [
  view('10.0.0.1', {role: 'manager', leader: true, reachability: 'reachable', labels: {type: 'service'}}),
  view('10.0.0.2', {labels: {type: 'db'}}),
  view('10.0.0.3', {labels: {type: 'db', zone: 'a'}}),
]

describe('judgeSwarm', () => {
  it('passes a whole swarm with one reachable leader', () => {
    expect(judgeSwarm('prod', swarmNodes, healthy).map((f) => `${f.target} ${f.status}`)).toEqual(['m1 pass', 'w1 pass', 'w2 pass', 'managers pass'])
  })
  it('fails a down, a drained and a missing node, each with its own hint', () => {
    const findings = judgeSwarm('prod', swarmNodes, [healthy[0]!, view('10.0.0.2', {state: 'down'})])
    expect(findings.map((f) => [f.target, f.status, f.detail])).toEqual([
      ['m1', 'pass', 'Ready, Active, manager (leader)'],
      ['w1', 'fail', 'state down (not Ready)'],
      ['w2', 'fail', 'not a member of the swarm'],
      ['managers', 'pass', '1 of 1 managers reachable, leader lab'],
    ])
    const drained = judgeSwarm('prod', swarmNodes, [healthy[0]!, view('10.0.0.2', {availability: 'drain'}), healthy[2]!])
    expect(drained[1]).toMatchObject({
      status: 'fail',
      detail: 'availability drain (not Active)',
      hint: 'Bring it back after maintenance: ctl node activate prod w1',
    })
  })
  it('fails an even number of reachable managers and a swarm without leader', () => {
    const two = [healthy[0]!, view('10.0.0.2', {role: 'manager', reachability: 'reachable'}), view('10.0.0.3', {role: 'manager', reachability: 'unreachable'})]
    expect(judgeSwarm('prod', swarmNodes, two).at(-1)).toMatchObject({
      target: 'managers',
      status: 'fail',
      detail: '2 of 3 managers reachable: an even number cannot outvote a split',
    })
    const leaderless = healthy.map((v) => ({...v, leader: false}))
    expect(judgeSwarm('prod', swarmNodes, leaderless).at(-1)).toMatchObject({status: 'fail', detail: '1 of 1 managers reachable, no leader'})
  })
})

describe('judgeNodeLabels', () => {
  it('passes matching managed labels and ignores keys ctl does not manage', () => {
    expect(judgeNodeLabels(inventory, healthy).map((f) => `${f.target} ${f.status}`)).toEqual(['m1 pass', 'w1 pass', 'w2 pass'])
  })
  it('reports drift on managed keys with the command that fixes it', () => {
    const drifted = [healthy[0]!, view('10.0.0.2', {labels: {type: 'service'}}), view('10.0.0.3')]
    const findings = judgeNodeLabels(inventory, drifted)
    expect(findings[1]).toEqual({
      target: 'w1',
      status: 'fail',
      detail: 'drift: ~ type: service → db',
      hint: "ctl node label prod shows and applies the inventory's labels.",
    })
    expect(findings[2]!.detail).toBe('drift: + type=db')
  })
})

describe('judgePlacement', () => {
  it('gives each service a row, failing the ones the placement report flags', () => {
    const findings = judgePlacement('prod', 'app', {
      ok: false,
      services: [
        {stack: 'app', service: 'web', constraints: ['node.labels.type==service'], nodes: ['m1'], hostModePorts: ['8080']},
        {stack: 'app', service: 'redis', constraints: ['node.labels.type==cache'], nodes: [], hostModePorts: []},
      ],
      findings: [
        {
          stack: 'app',
          service: 'redis',
          kind: 'no-matching-node',
          severity: 'error',
          message: 'constraints [node.labels.type==cache] match no node of the inventory',
        },
      ],
    })
    expect(findings.map((f) => [f.target, f.status, f.detail])).toEqual([
      ['app/web', 'pass', 'placeable on m1, host-mode ports 8080 allowed'],
      ['app/redis', 'fail', 'constraints [node.labels.type==cache] match no node of the inventory'],
    ])
  })
})
