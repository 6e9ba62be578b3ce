import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'
import {
  composeServices,
  gatePacingSeconds,
  heldUpdateConfig,
  mergeCompose,
  renderOverride,
  restingUpdateConfig,
  rollbackUpdateConfig,
} from '../../../src/deploy/compose.js'
import {testInventory, webCompose} from './fixtures.js'

describe('compose files', () => {
  it('merges files like docker stack deploy: maps deeply, lists replaced', () => {
    const merged = mergeCompose([webCompose, {services: {app: {image: 'x:2', deploy: {replicas: 3}}}}])
    const app = composeServices(merged).app!
    expect(app).toEqual({image: 'x:2', replicas: 3, constraints: ['node.labels.type == service'], hostPorts: [8080], healthcheck: false})
    expect(composeServices(merged).worker).toEqual({image: 'team/worker:1.0', replicas: 1, constraints: [], hostPorts: [], healthcheck: false})
  })

  it('paces Swarm so the gate can pass before the next task: passFor + 2 probes + 1 s', () => {
    const app = testInventory().services[0]!
    expect(gatePacingSeconds(app)).toBe(5)
  })

  it('renders the override: chosen images, Swarm held after every batch, stop-first rollbacks for host ports', () => {
    const app = testInventory().services[0]!
    const text = renderOverride({app: 'registry:5000/team/app:v2'}, [app], '3.7', {app: {constraints: [], hostPorts: [8080], healthcheck: true}})
    expect(text.startsWith('# Written by ctl deploy')).toBe(true)
    expect(parse(text)).toEqual({
      version: '3.7',
      services: {
        app: {
          image: 'registry:5000/team/app:v2',
          deploy: {
            update_config: {parallelism: 1, order: 'start-first', delay: '24h', monitor: '4s', failure_action: 'pause', max_failure_ratio: 0},
            rollback_config: {parallelism: 1, order: 'stop-first', monitor: '4s', failure_action: 'pause', max_failure_ratio: 0},
          },
          // Docker must not kill a slow starter before ctl's gate deadline.
          healthcheck: {start_period: `${app.health!.deadlineSeconds}s`},
        },
      },
    })
  })
})

describe('Swarm settings outside the held rollout', () => {
  it('rests paced for the gate after a rollout; rolls back without a hold, stop-first where host ports are all taken', () => {
    const app = testInventory().services[0]!
    expect(restingUpdateConfig(app)).toEqual({Parallelism: 1, Delay: 5e9, FailureAction: 'rollback', Monitor: 4e9, MaxFailureRatio: 0, Order: 'start-first'})
    expect(rollbackUpdateConfig(app, [8080])).toMatchObject({Delay: 0, FailureAction: 'pause', Order: 'stop-first'})
    expect(rollbackUpdateConfig(app, [])).toMatchObject({Order: 'start-first'})
    expect(heldUpdateConfig(app)).toMatchObject({Delay: 86_400e9, FailureAction: 'pause', Order: 'start-first'})
  })
})
