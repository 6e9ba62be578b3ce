import {beforeAll, describe, expect, it} from 'vitest'
import {runCtl} from '../support/cli.js'
import {appJson, appImage, appTasks, deployApp, ensureSwarm, settledHealth} from './support/app.js'
import {docker} from './support/swarm.js'

/** Swarm's update state and delay of app_app: clean is no update (or completed) and the resting delay. */
async function updateState(): Promise<string> {
  return (await docker('h1', ['service', 'inspect', '--format', '{{json .UpdateStatus}} {{.Spec.UpdateConfig.Delay}}', 'app_app'])).stdout
}

// Every kind of bad release the lab can play (packages/lab/src/components/app-image.ts), each deployed over v1
// under the /health gate: ctl must fail it, roll back, and leave v1 healthy on every replica.
describe('ctl deploy of bad releases', () => {
  beforeAll(async () => {
    await ensureSwarm()
    await deployApp('v1')
  })

  it.each([
    ['broken', /HTTP 503 \{"status":"failing","version":"broken"/],
    ['flaky', /HTTP 503 \{"status":"failing","version":"flaky"/],
    ['fail-after', /HTTP 503 \{"status":"failing","version":"fail-after"/],
    ['exit', /"version":"exit"|no answer/],
  ])('%s: fails, rolls back, the old version healthy on every replica', async (kind, answers) => {
    const before = new Set((await appTasks()).map((t) => t.id))
    const run = await runCtl(['deploy', 'lab', '--image', `app=${kind}`, '--skip-preflight', '--json'])
    expect(run.exitCode, run.stderr).toBe(1)
    const result = appJson(run)
    expect(result.outcome).toBe('rolled-back')
    const [service] = result.services
    expect(service).toMatchObject({swarmName: 'app_app', outcome: 'rolled-back', finalImage: 'ctl-lab/app:v1'})
    // The report names the task that failed, its node and its last answers.
    expect(service.failedTask.task).toMatch(/^[0-9a-z]{12}$/)
    expect(service.failedTask.node).toMatch(/^h[123]$/)
    expect(service.failedTask.lastAnswers.join('\n')).toMatch(answers)
    // The gate held Swarm: the bad image never ran on more than `parallelism` + 1 slots at once
    // (the next batch may start while a task that passed fails in its monitor window).
    const bad = (await appTasks()).filter((t) => !before.has(t.id) && t.image === `ctl-lab/app:${kind}`)
    expect(bad.every((t) => t.desired !== 'running')).toBe(true)
    // Back on v1: two running tasks, both answering healthy, and Swarm's update state clean.
    expect(await appImage()).toBe('ctl-lab/app:v1')
    const running = (await appTasks()).filter((t) => t.desired === 'running')
    expect(running.map((t) => `${t.image} ${t.state}`)).toEqual(['ctl-lab/app:v1 running', 'ctl-lab/app:v1 running'])
    expect((await settledHealth()).filter((h) => h.status === 200).map((h) => h.version)).toEqual(['v1', 'v1'])
    expect(await updateState()).toMatch(/^(null|\{"State":"completed".*\}) 4s$/)
    const check = await runCtl(['check', 'run', 'lab', 'service-health', '--json'])
    expect(check.exitCode, check.stdout).toBe(0)
  })

  it('slow but good: healthy only after 12 s, deployed, then back to v1', async () => {
    const result = await deployApp('slow')
    expect(result.services[0]).toMatchObject({outcome: 'updated', finalImage: 'ctl-lab/app:slow'})
    for (const gate of result.services[0].gates) expect(gate.secondsToPass).toBeGreaterThanOrEqual(10)
    expect((await settledHealth()).map((h) => `${h.status} ${h.version}`)).toEqual(['200 slow', '200 slow'])
    await deployApp('v1')
    expect(await updateState()).toMatch(/ 4s$/)
  })
})
