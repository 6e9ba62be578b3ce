import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'
import {mergeCompose} from '../../../src/deploy/compose.js'
import {imagesToResolve, planDeploy, type StackInput} from '../../../src/deploy/plan.js'
import {testInventory, webCompose} from './fixtures.js'

const stacks: StackInput[] = [{name: 'web', files: ['/x/stacks/web.yml'], merged: mergeCompose([webCompose]), version: '3.8'}]
const running = {web_app: 'registry:5000/team/app:1.0@sha256:aa', web_worker: 'team/worker:0.9'}

describe('deploy plan', () => {
  it('lists old and new images; a file image equal to the running one is unchanged', () => {
    const plan = planDeploy('t', testInventory(), {images: {}}, stacks, running)
    expect(
      plan.stacks[0]!.services.map(({swarmName, oldImage, newImage, action, gated, replicas}) => ({swarmName, oldImage, newImage, action, gated, replicas})),
    ).toEqual([
      {
        swarmName: 'web_app',
        oldImage: 'registry:5000/team/app:1.0@sha256:aa',
        // Unchanged keeps exactly what runs (the digest Swarm pinned), so Swarm sees no change.
        newImage: 'registry:5000/team/app:1.0@sha256:aa',
        action: 'unchanged',
        gated: true,
        replicas: 2,
      },
      {swarmName: 'web_worker', oldImage: 'team/worker:0.9', newImage: 'team/worker:1.0', action: 'update', gated: false, replicas: 1},
    ])
    expect(plan.changes.map((c) => c.swarmName)).toEqual(['web_worker'])
  })

  it('pins each new image to the digest resolved for its tag; a tag moved to other bits is a change', () => {
    const digests = {'registry:5000/team/app:1.0': 'sha256:bb', 'team/worker:1.0': 'sha256:cc'}
    const plan = planDeploy('t', testInventory(), {images: {}}, stacks, running, {}, digests)
    expect(plan.changes.map((c) => `${c.swarmName} ${c.action} ${c.newImage}`)).toEqual([
      'web_app update registry:5000/team/app:1.0@sha256:bb',
      'web_worker update team/worker:1.0@sha256:cc',
    ])
    expect(parse(plan.stacks[0]!.override).services.app.image).toBe('registry:5000/team/app:1.0@sha256:bb')
    const same = planDeploy('t', testInventory(), {images: {}}, stacks, running, {}, {...digests, 'registry:5000/team/app:1.0': 'sha256:aa'})
    expect(same.stacks[0]!.services[0]).toMatchObject({action: 'unchanged', newImage: running.web_app})
  })

  it('asks the registry for every wanted image (a pinned one to prove it is there), never for a service --service keeps', () => {
    expect(imagesToResolve(testInventory(), {images: {app: 'v2'}}, stacks, running)).toEqual(['registry:5000/team/app:v2', 'team/worker:1.0'])
    expect(imagesToResolve(testInventory(), {service: 'app', images: {app: 'v2'}}, stacks, running)).toEqual(['registry:5000/team/app:v2'])
    expect(imagesToResolve(testInventory(), {images: {app: 'registry:5000/team/app:v2@sha256:dd'}}, stacks, running)).toEqual([
      'registry:5000/team/app:v2@sha256:dd',
      'team/worker:1.0',
    ])
    expect(() => imagesToResolve(testInventory(), {stack: 'db', images: {}}, stacks, running)).toThrow(/No stack named "db"/)
  })

  it('--image replaces the tag and goes into the override with the rollout', () => {
    const plan = planDeploy('t', testInventory(), {images: {app: 'v2'}}, stacks, running)
    expect(plan.changes.find((c) => c.service === 'app')).toMatchObject({oldImage: running.web_app, newImage: 'registry:5000/team/app:v2', action: 'update'})
    const override = parse(plan.stacks[0]!.override)
    expect(override.services.app.image).toBe('registry:5000/team/app:v2')
    expect(override.services.app.deploy.update_config.order).toBe('start-first')
    expect(override.services.worker).toBeUndefined()
  })

  it('--service pins the other services of the stack to their running image', () => {
    const plan = planDeploy('t', testInventory(), {service: 'app', images: {app: 'v2'}}, stacks, running)
    expect(plan.changes.map((c) => `${c.service}:${c.newImage}`)).toEqual(['app:registry:5000/team/app:v2'])
    expect(parse(plan.stacks[0]!.override).services.worker.image).toBe('team/worker:0.9')
  })

  it('a service that does not run yet is created', () => {
    const plan = planDeploy('t', testInventory(), {images: {}}, stacks, {})
    expect(plan.changes.map((c) => `${c.swarmName}:${c.action}`)).toEqual(['web_app:create', 'web_worker:create'])
  })

  it('refuses unknown services and stacks, conflicting flags, and host ports without a free node', () => {
    expect(() => planDeploy('t', testInventory(), {images: {nope: 'v2'}}, stacks, running)).toThrow(/no selected stack defines/)
    expect(() => planDeploy('t', testInventory(), {stack: 'db', images: {}}, stacks, running)).toThrow(/No stack named "db"/)
    expect(() => planDeploy('t', testInventory(), {service: 'app', images: {worker: 'v2'}}, stacks, running)).toThrow(/conflicts with --service app/)
    const three = [{...stacks[0]!, merged: mergeCompose([webCompose, {services: {app: {deploy: {replicas: 3}}}}])}]
    expect(() => planDeploy('t', testInventory(), {images: {}}, three, running)).toThrow(/needs 4 eligible nodes, only 3 match/)
  })

  it('gates the changed services of a stack one at a time: one stack deploy each, the later ones pinned', () => {
    const both = planDeploy(
      't',
      {...testInventory(), services: [...testInventory().services, {...testInventory().services[0]!, name: 'worker'}]},
      {images: {app: 'v2'}},
      stacks,
      running,
    )
    const [first, second] = both.stacks[0]!.stages
    expect(both.stacks[0]!.stages).toHaveLength(2)
    expect(first!.gated).toEqual(['web_app'])
    expect(parse(first!.override).services.worker.image).toBe('team/worker:0.9')
    expect(parse(first!.override).services.app.image).toBe('registry:5000/team/app:v2')
    expect(second!.gated).toEqual(['web_worker'])
    // The stack file's own image applies again.
    expect(parse(second!.override).services.worker.image).toBeUndefined()
    // One gated change: one stage, as before.
    expect(planDeploy('t', testInventory(), {images: {app: 'v2'}}, stacks, running).stacks[0]!.stages.map((s) => s.gated)).toEqual([['web_app']])
  })

  it('repairs a service Swarm left half-way even when its image does not change', () => {
    const plan = planDeploy('t', testInventory(), {images: {}}, stacks, running, {web_app: 'Swarm rollback paused, 3/2 tasks running'})
    expect(plan.changes.find((c) => c.swarmName === 'web_app')).toMatchObject({action: 'repair', repairReason: 'Swarm rollback paused, 3/2 tasks running'})
    expect(plan.stacks[0]!.stages[0]!.gated).toEqual(['web_app'])
  })
})
