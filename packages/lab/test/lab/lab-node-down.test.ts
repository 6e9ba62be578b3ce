import {execa} from 'execa'
import {existsSync, writeFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {join} from 'node:path'
import {json, projectRoot, runCtl} from '../../../../test/support/cli.js'

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
    expect(status.rows.find((r: any) => r.component === 'hosts' && r.host === 'h2')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('link ctllab8h2 down'),
    })

    const up = await ctl('lab', 'up', '--hosts', '2', '--no-docker', '--json')
    expect(up.exitCode, up.stderr).toBe(0)
    expect(await reachable()).toEqual({h1: true, h2: true})
  })

  it('runs one up at a time: waits for a live lock holder and takes over a dead one', async () => {
    const lock = '/run/ctl-lab8.lock'
    const holder = execa('sleep', ['30'])
    writeFileSync(lock, `${holder.pid} test\n`)
    const waiting = execa(join(projectRoot, 'bin', 'run.js'), ['lab', 'up', '--hosts', '2', '--no-docker'], {
      cwd: projectRoot,
      env: {...env, CTL_NONINTERACTIVE: '1'},
      reject: false,
      input: '',
    })
    let stderr = ''
    waiting.stderr!.on('data', (chunk) => (stderr += String(chunk)))
    const deadline = Date.now() + 60_000
    while (!stderr.includes('Waiting') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(stderr).toContain(`Waiting for another ctl working on ctl-lab8 (pid ${holder.pid}`)
    expect(existsSync(lock)).toBe(true)
    holder.kill('SIGKILL')
    await holder.catch(() => undefined)
    const run = await waiting
    expect(run.exitCode, stderr).toBe(0)
    expect(existsSync(lock)).toBe(false)

    // The holder is dead now: a lock it left behind does not block.
    writeFileSync(lock, `${holder.pid} test\n`)
    const again = await ctl('lab', 'up', '--hosts', '2', '--no-docker')
    expect(again.exitCode).toBe(0)
    expect(again.stderr).not.toContain('Waiting')
  })
})
