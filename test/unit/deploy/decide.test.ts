import {describe, expect, it} from 'vitest'
import {decideRollback, decideRollout, deployOutcome, rollbackRefusal, type TimedVerdict} from '../../../src/deploy/decide.js'
import type {ServicePlan} from '../../../src/deploy/plan.js'
import type {ServiceOutcome} from '../../../src/deploy/service-rollout.js'
import type {GateVerdict} from '../../../src/deploy/gate.js'
import {currentTasks, describeState, parseServiceJson, serviceUnfitness, type ServiceView, type TaskView} from '../../../src/deploy/swarm-state.js'

const task = (id: string, current: boolean, state: string, desiredState = 'running', extra: Partial<TaskView> = {}): TaskView => ({
  id,
  current,
  state,
  desiredState,
  image: current ? 'app:v2' : 'app:v1',
  createdAt: `2026-01-01T00:00:0${id.length}Z`,
  ...extra,
})
const view = (updateState: string | undefined, tasks: TaskView[], replicas = 2): ServiceView => ({name: 's', image: 'app:v2', replicas, updateState, tasks})
const passed: GateVerdict = {state: 'passed', healthyForMs: 3000}
const pending: GateVerdict = {state: 'pending', healthyForMs: 0}
const gates = (entries: Record<string, GateVerdict>) => new Map(Object.entries(entries))

describe('rollout decision', () => {
  it.each([
    ['first new task starting', view('updating', [task('a', false, 'running'), task('b', false, 'running'), task('n1', true, 'starting')]), {}, 'waiting'],
    [
      'one passed, Swarm holds: let it go on',
      view('updating', [task('b', false, 'running'), task('n1', true, 'running'), task('a', false, 'shutdown', 'shutdown')]),
      {n1: passed},
      'advance',
    ],
    [
      'one passed but its old task still wanted',
      view('updating', [task('a', false, 'running'), task('b', false, 'running'), task('n1', true, 'running')]),
      {n1: passed},
      'waiting',
    ],
    ['one running, gate pending', view('updating', [task('b', false, 'running'), task('n1', true, 'running')]), {n1: pending}, 'waiting'],
    [
      'all passed, Swarm still holds: release it',
      view('updating', [task('n1', true, 'running'), task('n2', true, 'running')]),
      {n1: passed, n2: passed},
      'finish',
    ],
    [
      '3 tasks running for 2 replicas',
      view('completed', [task('n1', true, 'running'), task('n2', true, 'running'), task('a', false, 'running')]),
      {n1: passed, n2: passed},
      'waiting',
    ],
    ['all passed and completed', view('completed', [task('n1', true, 'running'), task('n2', true, 'running')]), {n1: passed, n2: passed}, 'done'],
    ['new service, no update status', view(undefined, [task('n1', true, 'running'), task('n2', true, 'running')]), {n1: passed, n2: passed}, 'done'],
    [
      'completed but one gate still pending',
      view('completed', [task('n1', true, 'running'), task('n2', true, 'running')]),
      {n1: passed, n2: pending},
      'waiting',
    ],
    ['gate failed', view('updating', [task('n1', true, 'running')]), {n1: {state: 'failed', reason: 'HTTP 503'}}, 'failed'],
    ['new task exited', view('updating', [task('n1', true, 'complete', 'shutdown')]), {}, 'failed'],
    ['new task rejected', view('updating', [task('n1', true, 'rejected', 'shutdown', {error: 'no such image'})]), {}, 'failed'],
    ['Swarm paused', view('paused', [task('n1', true, 'running')]), {}, 'failed'],
    ['Swarm rolling back', view('rollback_started', [task('a', true, 'running')]), {}, 'failed'],
  ] as const)('%s → %s', (_name, v, g, kind) => {
    expect(decideRollout(v, gates(g as Record<string, GateVerdict>)).kind).toBe(kind)
  })

  it('lets a held Swarm go on when a slot keeps two running tasks long after every task passed (a repaired pause)', () => {
    // Three running tasks of the new spec for two replicas: slot 2 kept an extra one.
    const v = view('updating', [task('n1', true, 'running'), task('n2', true, 'running'), task('n3', true, 'running')])
    const timed = new Map<string, TimedVerdict>(['n1', 'n2', 'n3'].map((id) => [id, {...passed, passedAt: 1000}]))
    expect(decideRollout(v, timed, new Set(), {now: 5000, monitorMs: 3000}).kind).toBe('waiting')
    expect(decideRollout(v, timed, new Set(), {now: 16_000, monitorMs: 3000})).toEqual({kind: 'advance', healthy: 3, wanted: 2})
    // Told once for this count; and never while a task has not passed.
    expect(decideRollout(v, timed, new Set(), {now: 30_000, monitorMs: 3000, advancedAt: 3}).kind).toBe('waiting')
    const pendingOne = new Map<string, TimedVerdict>([...timed, ['n3', pending]])
    expect(decideRollout(v, pendingOne, new Set(), {now: 30_000, monitorMs: 3000}).kind).toBe('waiting')
  })

  it('lets Swarm go on once per batch, and ends only after the monitor window', () => {
    const v = view('updating', [task('b', false, 'running'), task('n1', true, 'running')])
    expect(decideRollout(v, gates({n1: passed}), new Set(), {now: 0, monitorMs: 0, advancedAt: 1}).kind).toBe('waiting')
    expect(decideRollout(v, gates({n1: passed}), new Set(), {now: 0, monitorMs: 0, advancedAt: 0}).kind).toBe('advance')
    const all = view('updating', [task('n1', true, 'running'), task('n2', true, 'running')])
    const timed = new Map([
      ['n1', {...passed, passedAt: 1000}],
      ['n2', {...passed, passedAt: 5000}],
    ])
    expect(decideRollout(all, timed, new Set(), {now: 7000, monitorMs: 3000}).kind).toBe('waiting')
    expect(decideRollout(all, timed, new Set(), {now: 8000, monitorMs: 3000}).kind).toBe('finish')
    expect(decideRollout(all, timed, new Set(), {now: 8000, monitorMs: 3000, finishing: true}).kind).toBe('waiting')
    expect(decideRollout({...all, updateState: undefined}, timed, new Set(), {now: 8000, monitorMs: 3000, finishing: true}).kind).toBe('done')
  })

  it('fails a task that answers a failure in its monitor window, after it passed', () => {
    const all = view('updating', [task('n1', true, 'running'), task('n2', true, 'starting')])
    expect(
      decideRollout(all, gates({n1: {state: 'failed', reason: 'answered HTTP 503 after being healthy'}}), new Set(), {now: 0, monitorMs: 3000}),
    ).toMatchObject({kind: 'failed', task: {id: 'n1'}})
  })

  it('ignores failures of tasks that existed before the rollout', () => {
    const v = view('updating', [task('old', true, 'failed', 'shutdown'), task('n1', true, 'starting')])
    expect(decideRollout(v, gates({}), new Set(['old'])).kind).toBe('waiting')
    expect(decideRollout(v, gates({})).kind).toBe('failed')
  })

  it('names the failing task and whether Swarm already rolls back', () => {
    const failed = decideRollout(view('updating', [task('n1', true, 'running')]), gates({n1: {state: 'failed', reason: 'HTTP 503'}}))
    expect(failed).toMatchObject({kind: 'failed', swarmRollingBack: false, task: {id: 'n1'}, reason: 'task n1 failed the /health gate: HTTP 503'})
    const swarm = decideRollout(
      {
        ...view('rollback_started', [task('a', true, 'running'), task('bad1', false, 'complete', 'shutdown')]),
        updateMessage: 'update rolled back due to failure',
      },
      gates({}),
    )
    expect(swarm).toMatchObject({
      kind: 'failed',
      swarmRollingBack: true,
      task: {id: 'bad1'},
      reason: 'Swarm is rolling back: update rolled back due to failure',
    })
  })

  it.each([
    ['rollback in progress', view('rollback_started', [task('o1', true, 'running')]), {o1: passed}, 'waiting'],
    [
      'rollback completed, all healthy',
      view('rollback_completed', [task('o1', true, 'running'), task('o2', true, 'running')]),
      {o1: passed, o2: passed},
      'done',
    ],
    [
      'rollback completed, one not yet healthy',
      view('rollback_completed', [task('o1', true, 'running'), task('o2', true, 'running')]),
      {o1: passed},
      'waiting',
    ],
    ['rollback paused', view('rollback_paused', []), {}, 'failed'],
    ["ctl's update back paused", view('paused', [task('o1', true, 'running')]), {o1: passed}, 'failed'],
    [
      'settled but a third task still running',
      view(undefined, [task('o1', true, 'running'), task('o2', true, 'running'), task('x', false, 'running')]),
      {o1: passed, o2: passed},
      'waiting',
    ],
  ] as const)('rollback: %s → %s', (_name, v, g, kind) => {
    expect(decideRollback(v, gates(g as Record<string, GateVerdict>)).kind).toBe(kind)
  })
})

describe('service state from the Engine API', () => {
  it('marks tasks made from the present spec (image and force-update counter) as current', () => {
    const spec = (image: string, force = 0) => ({ContainerSpec: {Image: image, Env: ['A=1']}, ForceUpdate: force})
    const service = {
      Spec: {Name: 'app_app', TaskTemplate: spec('app:v2', 1), Mode: {Replicated: {Replicas: 2}}},
      PreviousSpec: {TaskTemplate: spec('app:v1')},
      UpdateStatus: {State: 'updating', Message: 'update in progress'},
    }
    const tasks = [
      {ID: 'old', NodeID: 'n1', Slot: 1, DesiredState: 'shutdown', Status: {State: 'shutdown'}, Spec: spec('app:v1'), CreatedAt: '1'},
      {ID: 'forced-before', NodeID: 'n2', Slot: 2, DesiredState: 'running', Status: {State: 'running'}, Spec: spec('app:v2', 0), CreatedAt: '2'},
      {ID: 'new', NodeID: 'n3', Slot: 1, DesiredState: 'running', Status: {State: 'running'}, Spec: spec('app:v2', 1), CreatedAt: '3'},
      {ID: 'bad', NodeID: '', Slot: 2, DesiredState: 'running', Status: {State: 'pending', Err: 'no suitable node'}, Spec: spec('app:v2', 1), CreatedAt: '4'},
    ]
    const v = parseServiceJson(service, tasks)
    expect(v).toMatchObject({name: 'app_app', image: 'app:v2', previousImage: 'app:v1', replicas: 2, updateState: 'updating'})
    expect(v.tasks.map((t) => [t.id, t.current])).toEqual([
      ['old', false],
      ['forced-before', false],
      ['new', true],
      ['bad', true],
    ])
    expect(v.tasks[3]).toMatchObject({nodeId: undefined, error: 'no suitable node'})
    expect(currentTasks(v).map((t) => t.id)).toEqual(['new', 'bad'])
  })
})

describe('rollback refusals', () => {
  it.each([
    [{previousImage: 'app:v1', updateState: 'completed'}, undefined],
    [{previousImage: 'app:v1', updateState: undefined}, undefined],
    [{previousImage: undefined, updateState: 'completed'}, 'deploy.no-previous'],
    [{previousImage: undefined, updateState: 'rollback_completed'}, 'deploy.already-rolled-back'],
    [{previousImage: 'app:broken', updateState: 'rollback_completed'}, 'deploy.already-rolled-back'],
  ])('%j → %s', (view, code) => {
    expect(rollbackRefusal(view)?.code).toBe(code)
  })
})

describe('fitness of a service to deploy onto', () => {
  it.each([
    ['clean', view(undefined, [task('a', true, 'running'), task('b', true, 'running')]), undefined],
    [
      'update paused',
      {...view('paused', [task('a', true, 'running'), task('b', true, 'running')]), updateMessage: 'update paused due to failure'},
      'Swarm paused (update paused due to failure), 2/2 tasks running',
    ],
    [
      'rollback paused, 3 tasks for 2',
      view('rollback_paused', [task('a', true, 'running'), task('b', true, 'running'), task('c', false, 'running')]),
      'Swarm rollback paused, 3/2 tasks running',
    ],
    ['3 running for 2 replicas', view('completed', [task('a', true, 'running'), task('b', true, 'running'), task('c', false, 'running')]), '3/2 tasks running'],
    ['one missing', view('completed', [task('a', true, 'running'), task('b', true, 'pending')]), '1/2 tasks running, 2 wanted'],
  ] as const)('%s', (_name, v, why) => {
    expect(serviceUnfitness(v)).toBe(why)
  })
})

describe('the state a service is left in', () => {
  it('names the spec, the update state and the tasks per image', () => {
    const v = {
      ...view('rollback_paused', [
        task('a', true, 'running'),
        task('b', false, 'running'),
        task('c', false, 'pending'),
        task('d', false, 'shutdown', 'shutdown'),
      ]),
      updateMessage: 'host-mode port already in use',
    }
    expect(describeState(v)).toBe(
      's: spec app:v2, update state rollback_paused (host-mode port already in use); 3 task(s) for 2 replica(s): 1 app:v2 running, 1 app:v1 running, 1 app:v1 pending',
    )
  })
})

describe('deployOutcome', () => {
  const change = (action: 'update' | 'repair') => ({action}) as Pick<ServicePlan, 'action'>
  it.each([
    ['every change updated', [change('update')], ['updated'], 'ok'],
    ['only repairs, all clean', [change('repair'), change('repair')], ['updated', 'updated'], 'repaired'],
    ['a repair among updates', [change('repair'), change('update')], ['updated', 'updated'], 'ok'],
    ['nothing to roll', [], [], 'no-changes'],
    ['every failure rolled back', [change('update'), change('update')], ['updated', 'rolled-back'], 'rolled-back'],
    ['a rollback that did not finish', [change('update'), change('update')], ['rolled-back', 'rollback-failed'], 'failed'],
  ] as const)('%s → %s', (_name, changes, outcomes, expected) => {
    expect(
      deployOutcome(
        changes,
        outcomes.map((outcome) => ({outcome}) as Pick<ServiceOutcome, 'outcome'>),
      ),
    ).toBe(expected)
  })
})
