import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'
import {composeServices, gatePacingSeconds, mergeCompose, renderOverride} from '../../../src/deploy/compose.js'
import {testInventory, webCompose} from './fixtures.js'

describe('compose files', () => {
  it('merges files like docker stack deploy: maps deeply, lists replaced', () => {
    const merged = mergeCompose([webCompose, {services: {app: {image: 'x:2', deploy: {replicas: 3}}}}])
    const app = composeServices(merged).app!
    expect(app).toEqual({image: 'x:2', replicas: 3, constraints: ['node.labels.type == service'], hostPorts: [8080]})
    expect(composeServices(merged).worker).toEqual({image: 'team/worker:1.0', replicas: 1, constraints: [], hostPorts: []})
  })

  it('paces Swarm so the gate can pass before the next task: passFor + 2 probes + 1 s', () => {
    const app = testInventory().services[0]!
    expect(gatePacingSeconds(app)).toBe(5)
  })

  it('renders the override: chosen images and the rollout from the inventory', () => {
    const app = testInventory().services[0]!
    const text = renderOverride({app: 'registry:5000/team/app:v2'}, [app], '3.7')
    expect(text.startsWith('# Written by ctl deploy')).toBe(true)
    expect(parse(text)).toEqual({
      version: '3.7',
      services: {
        app: {
          image: 'registry:5000/team/app:v2',
          deploy: {
            update_config: {parallelism: 1, order: 'start-first', delay: '5s', monitor: '4s', failure_action: 'rollback', max_failure_ratio: 0},
            rollback_config: {parallelism: 1, order: 'start-first', monitor: '4s', failure_action: 'pause', max_failure_ratio: 0},
          },
        },
      },
    })
  })
})
