import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCtl} from '../support/cli.js'
import {appJson, appTasks, deployApp, ensureSwarm, settledHealth, resetStuckApp} from './support/app.js'
import {docker} from './support/swarm.js'

async function waitForState(states: string[], seconds = 90): Promise<void> {
  // Swarm takes a moment to start an update: the state of the one before must not count.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  for (let i = 0; i < seconds && !states.includes((await swarmState()) ?? ''); i++) await new Promise((resolve) => setTimeout(resolve, 1000))
  expect(states).toContain(await swarmState())
}

/** By hand, outside ctl: an update whose tasks exit 3 s after starting, Swarm told to pause on failure. */
async function pausedUpdate(): Promise<string> {
  await docker('h1', [
    'service',
    'update',
    '--detach',
    '--update-failure-action',
    'pause',
    '--update-monitor',
    '30s',
    '--update-delay',
    '0s',
    '--env-add',
    'APP_EXIT_AFTER_SECONDS=3',
    'app_app',
  ])
  await waitForState(['paused'])
  return 'paused'
}

/**
 * By hand: a previous spec whose tasks exit, a good spec on top, then Swarm's own rollback to the
 * bad one with `--rollback-failure-action pause`: Swarm pauses the rollback half-way.
 */
async function pausedRollback(): Promise<string> {
  const quick = [
    '--update-failure-action',
    'continue',
    '--update-monitor',
    '1s',
    '--update-delay',
    '0s',
    '--update-order',
    'stop-first',
    '--update-parallelism',
    '2',
  ]
  await docker('h1', ['service', 'update', '--detach', ...quick, '--env-add', 'APP_EXIT_AFTER_SECONDS=4', 'app_app'])
  await waitForState(['completed'])
  await docker('h1', [
    'service',
    'update',
    '--detach',
    ...quick,
    '--rollback-failure-action',
    'pause',
    '--rollback-monitor',
    '30s',
    '--rollback-delay',
    '0s',
    '--env-rm',
    'APP_EXIT_AFTER_SECONDS',
    'app_app',
  ])
  await waitForState(['completed'])
  await docker('h1', ['service', 'rollback', '--detach', 'app_app'])
  await waitForState(['rollback_paused'])
  return 'rollback paused'
}

async function swarmState(): Promise<string | undefined> {
  const status = (await docker('h1', ['service', 'inspect', '--format', '{{json .UpdateStatus}}', 'app_app'])).stdout
  return status === 'null' ? undefined : (JSON.parse(status) as {State?: string}).State
}

// A service Swarm left paused half-way (the state behind "No image changes" leaving it as it was):
// ctl check and ctl node ls see it, ctl deploy of the same image repairs it.
describe('a paused update or rollback, seen and repaired', () => {
  beforeAll(async () => {
    await ensureSwarm()
    await deployApp('v2')
  })
  afterAll(async () => {
    if ((await swarmState())?.endsWith('paused')) await resetStuckApp()
    await deployApp('v2')
  })

  it.each([
    ['update', pausedUpdate],
    ['rollback', pausedRollback],
  ])('a paused %s is failed by the checks and repaired by ctl deploy of the running image', async (_kind, makePaused) => {
    const state = await makePaused()

    const check = await runCtl(['check', 'run', 'lab', 'service-health', '--json'])
    expect(check.exitCode).toBe(1)
    expect(check.stdout).toContain(`not fit to deploy onto: Swarm ${state}`)
    const ls = await runCtl(['node', 'ls', 'lab', '--json'])
    expect(ls.exitCode).toBe(1)
    expect(appJson(ls).unfitServices).toEqual([expect.objectContaining({service: 'app_app', reason: expect.stringContaining(`Swarm ${state}`)})])

    const dry = await runCtl(['deploy', 'lab', '--image', 'app=v2', '--skip-preflight', '--dry-run', '--json'])
    expect(appJson(dry).changes).toEqual([expect.objectContaining({swarmName: 'app_app', action: 'repair'})])
    const run = await runCtl(['deploy', 'lab', '--image', 'app=v2', '--skip-preflight', '--json'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0)
    expect(appJson(run).outcome).toBe('repaired')
    expect(appJson(run).services[0]).toMatchObject({outcome: 'updated', finalImage: 'ctl-lab/app:v2'})

    expect(await swarmState()).toBeUndefined()
    const running = (await appTasks()).filter((t) => t.desired === 'running')
    expect(running.map((t) => `${t.image} ${t.state}`)).toEqual(['ctl-lab/app:v2 running', 'ctl-lab/app:v2 running'])
    expect((await settledHealth()).map((h) => `${h.status} ${h.version}`)).toEqual(['200 v2', '200 v2'])
    expect((await runCtl(['check', 'run', 'lab', 'service-health', '--json'])).exitCode).toBe(0)
    expect((await runCtl(['node', 'ls', 'lab', '--json'])).exitCode).toBe(0)
  })
})
