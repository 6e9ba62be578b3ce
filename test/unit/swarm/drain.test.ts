import {describe, expect, it} from 'vitest'
import {assessDrain, drainRefusal, predictDrain, type DrainPrediction} from '../../../src/swarm/drain.js'
import type {ServiceView, TaskView} from '../../../src/swarm/views.js'
import {swarmNode} from './fixtures.js'

const nodes = [
  swarmNode('n1', '10.0.0.1', 'manager', {hostname: 'h1', labels: {type: 'service'}}),
  swarmNode('n2', '10.0.0.2', 'worker', {hostname: 'h2', labels: {type: 'service', disk: 'ssd'}}),
  swarmNode('n3', '10.0.0.3', 'worker', {hostname: 'h3', labels: {type: 'service'}}),
]
const service = (id: string, extra: Partial<ServiceView> = {}): ServiceView => ({
  id,
  name: `s_${id}`,
  mode: 'replicated',
  replicas: 3,
  constraints: [],
  hostPorts: [],
  ...extra,
})
let taskSeq = 0
const task = (serviceId: string, nodeId: string | undefined, state = 'running', extra: Partial<TaskView> = {}): TaskView => ({
  id: `t${++taskSeq}`,
  serviceId,
  nodeId,
  desiredState: 'running',
  state,
  ...extra,
})

describe('predictDrain', () => {
  it('sorts the node’s services into moves, stuck ones with the reason, and global ones that stop', () => {
    const services = [
      service('web', {constraints: ['node.labels.type == service']}),
      service('pinned', {replicas: 1, constraints: ['node.labels.disk == ssd']}),
      service('agent', {mode: 'global', replicas: undefined}),
      service('edge', {hostPorts: [80]}),
      service('elsewhere', {replicas: 1}),
    ]
    const tasks = [
      task('web', 'n1'),
      task('web', 'n2'),
      task('web', 'n3'),
      task('pinned', 'n2'),
      task('agent', 'n1'),
      task('agent', 'n2'),
      task('edge', 'n1'),
      task('edge', 'n2'),
      task('edge', 'n3'),
      task('elsewhere', 'n3'),
      task('web', 'n2', 'shutdown', {desiredState: 'shutdown'}),
    ]
    expect(predictDrain(nodes[1]!, nodes, services, tasks)).toEqual({
      moves: [{service: 's_web', serviceId: 'web', tasks: 1, to: ['h1', 'h3']}],
      cannotMove: [
        {service: 's_edge', serviceId: 'edge', tasks: 1, reason: 'host-mode port 80 is already taken on every other matching node'},
        {service: 's_pinned', serviceId: 'pinned', tasks: 1, reason: 'constraints [node.labels.disk == ssd] match no other active node'},
      ],
      stops: [{service: 's_agent', serviceId: 'agent', tasks: 1}],
    })
  })

  it('counts only ready and active nodes as somewhere to go', () => {
    const others = [nodes[0]!, {...nodes[1]!}, {...nodes[2]!, availability: 'drain' as const}]
    others[0] = {...others[0]!, state: 'down'}
    const prediction = predictDrain(others[1]!, others, [service('web')], [task('web', 'n2')])
    expect(prediction.cannotMove).toEqual([{service: 's_web', serviceId: 'web', tasks: 1, reason: 'no other node is ready and active'}])
  })

  it('lets a host-port service move to a matching node that does not run it yet', () => {
    const prediction = predictDrain(nodes[1]!, nodes, [service('edge', {replicas: 2, hostPorts: [80]})], [task('edge', 'n1'), task('edge', 'n2')])
    expect(prediction.moves).toEqual([{service: 's_edge', serviceId: 'edge', tasks: 1, to: ['h3']}])
  })
})

describe('assessDrain', () => {
  const web = service('web')
  it.each([
    [
      'done: all replicas run elsewhere, nothing left on the node',
      [task('web', 'n1'), task('web', 'n3'), task('web', 'n3'), task('web', 'n2', 'shutdown', {desiredState: 'shutdown'})],
      {done: true, waiting: [], cannotMove: []},
    ],
    [
      'waiting: the old task still runs on the node',
      [task('web', 'n1'), task('web', 'n3'), task('web', 'n2')],
      {done: false, waiting: [{service: 's_web', running: 2, wanted: 3, onNode: 1}], cannotMove: []},
    ],
    [
      'waiting: the replacement is starting',
      [task('web', 'n1'), task('web', 'n3'), task('web', 'n3', 'starting')],
      {done: false, waiting: [{service: 's_web', running: 2, wanted: 3, onNode: 0}], cannotMove: []},
    ],
    [
      'cannot move: the scheduler has no node for the replacement',
      [task('web', 'n1'), task('web', 'n3'), task('web', undefined, 'pending', {error: 'no suitable node (scheduling constraints not satisfied on 3 nodes)'})],
      {done: false, waiting: [], cannotMove: [{service: 's_web', reason: 'no suitable node (scheduling constraints not satisfied on 3 nodes)'}]},
    ],
  ])('%s', (_, tasks, expected) => {
    expect(assessDrain('n2', [web], tasks)).toEqual(expected)
  })

  it('waits for a global service to stop on the node, and is done once it has', () => {
    const agent = service('agent', {mode: 'global', replicas: undefined})
    expect(assessDrain('n2', [agent], [task('agent', 'n2')]).done).toBe(false)
    expect(assessDrain('n2', [agent], [task('agent', 'n2', 'shutdown', {desiredState: 'shutdown'})]).done).toBe(true)
  })
})

describe('drainRefusal', () => {
  const stuck: DrainPrediction = {
    moves: [],
    stops: [],
    cannotMove: [{service: 'db_pinned', serviceId: 's1', tasks: 1, reason: 'no other node matches node.labels.disk == ssd'}],
  }
  const free: DrainPrediction = {moves: [{service: 'web', serviceId: 's2', tasks: 1, to: ['h1', 'h3']}], stops: [], cannotMove: []}

  it('refuses (exit 2, nothing changed) when a task would have nowhere to go, naming each service and why', () => {
    const refusal = drainRefusal('h2', stuck, {wasDrained: false, force: false})
    expect(refusal?.exitCode).toBe(2)
    expect(refusal?.code).toBe('swarm.drain-stuck')
    expect(refusal?.host).toBe('h2')
    expect(refusal?.message).toBe(
      'Draining h2 would leave db_pinned without a node to run on:\n- db_pinned: no other node matches node.labels.disk == ssd\nNothing was changed.',
    )
    expect(refusal?.hint).toContain('--force')
  })

  it('lets --force drain anyway, a node already drained be waited on, and a drain where every task can move go ahead', () => {
    expect(drainRefusal('h2', stuck, {wasDrained: false, force: true})).toBeUndefined()
    expect(drainRefusal('h2', stuck, {wasDrained: true, force: false})).toBeUndefined()
    expect(drainRefusal('h2', free, {wasDrained: false, force: false})).toBeUndefined()
  })
})
