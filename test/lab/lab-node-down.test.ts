import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'

// `ctl lab break node-down <host>` on a separate sshd-only lab (CTL_LAB_INSTANCE=8), so the shared
// lab's hosts stay reachable for other tests: the host drops off the network, `up` brings it back.
const env = {CTL_LAB_INSTANCE: '8'}
const ctl = (...args: string[]) => runCtl(args, {env})
const inventory = '.lab/lab8-2.yml'

async function reachable(): Promise<Record<string, boolean>> {
  const run = await runCtl(['exec', inventory, '--json', '--timeout', '10', '--', 'true'])
  return Object.fromEntries((json(run).results as Array<{node: string; ok: boolean}>).map((r) => [r.node, r.ok]))
}

describe('ctl lab break node-down (instance 8)', () => {
  beforeAll(async () => {
    await ctl('lab', 'down', '--yes')
    const up = await ctl('lab', 'up', '--hosts', '2', '--no-docker', '--json')
    expect(up.exitCode, up.stdout + up.stderr).toBe(0)
    expect(json(up).components).toEqual([{component: 'hosts', ok: true}])
  })
  afterAll(async () => {
    await ctl('lab', 'down', '--yes')
  })

  it('lists node-down among the scenarios', async () => {
    const scenarios = json(await ctl('lab', 'break', '--json')).scenarios as Array<{name: string; component: string}>
    expect(scenarios).toContainEqual(expect.objectContaining({name: 'node-down', component: 'hosts'}))
  })

  it('refuses without --yes (no terminal), without a host, and with an unknown host, changing nothing', async () => {
    expect((await ctl('lab', 'break', 'node-down', 'h2')).exitCode).toBe(2)
    expect((await ctl('lab', 'break', 'node-down', '--yes')).exitCode).toBe(2)
    const unknown = await ctl('lab', 'break', 'node-down', 'h9', '--yes')
    expect(unknown.exitCode).toBe(2)
    expect(unknown.stderr).toMatch(/h1, h2/)
    expect(await reachable()).toEqual({h1: true, h2: true})
  })

  it('makes the host unreachable and `up` repairs it', async () => {
    const broke = await ctl('lab', 'break', 'node-down', 'h2', '--yes', '--json')
    expect(broke.exitCode, broke.stderr).toBe(0)
    expect(json(broke).message).toMatch(/h2 \(198\.18\.8\.12\) is cut off/)
    expect(await reachable()).toEqual({h1: true, h2: false})
    const status = json(await ctl('lab', 'status', '--json'))
    expect(status.rows.find((r: any) => r.component === 'hosts' && r.host === 'h2')).toMatchObject({ok: false, detail: expect.stringContaining('link ctllab8h2 down')})

    const up = await ctl('lab', 'up', '--hosts', '2', '--no-docker', '--json')
    expect(up.exitCode, up.stderr).toBe(0)
    expect(await reachable()).toEqual({h1: true, h2: true})
  })
})
