import {describe, expect, it} from 'vitest'
import {runCtl} from '../support/cli.js'
import {deployApp, ensureSwarm, hostHealth, settledHealth} from './support/app.js'

// `ctl lab break app-unhealthy <service>` really breaks /health on every replica (until Swarm's own
// healthcheck replaces them), and `lab up` repairs what is left.
describe('ctl lab break app-unhealthy', () => {
  it('makes every app replica answer 503 until lab up', async () => {
    await ensureSwarm()
    await deployApp('v1')
    expect((await hostHealth()).map((h) => h.status)).toEqual([200, 200])
    const broken = await runCtl(['lab', 'break', 'app-unhealthy', 'app', '--yes'])
    expect(broken.exitCode, broken.stderr).toBe(0)
    expect(broken.stdout).toMatch(/\/health of app now answers 503 on h\d:[0-9a-f]{12}, h\d:[0-9a-f]{12}/)
    // Swarm's container healthcheck replaces an unhealthy task within seconds (retries 3 x 1 s), so
    // look right away: the replicas not yet replaced answer 503.
    expect((await hostHealth()).map((h) => h.status)).toContain(503)
    const up = await runCtl(['lab', 'up', '--only', 'app'], {timeoutMs: 600_000})
    expect(up.exitCode, up.stderr).toBe(0)
    expect((await settledHealth()).map((h) => `${h.status} ${h.version}`)).toEqual(['200 v1', '200 v1'])
  })
})
