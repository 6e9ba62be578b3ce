import {execa} from 'execa'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../../../../test/support/cli.js'

// `down` and the repair of stale leftovers, on a separate lab instance (CTL_LAB_INSTANCE=7:
// ctl-lab7-h<i>, bridge ctllab7, 198.18.7.0/24), so the shared default lab keeps running; the test
// also checks that the default lab's daemons were not touched.
const env = {CTL_LAB_INSTANCE: '7'}
const ctl = (...args: string[]) => runCtl(args, {env})
const inventory = '.lab/lab7-2.yml'
const docker = (host: string, ...args: string[]) => execa('docker', ['-H', `unix:///run/ctl-lab7/${host}/docker.sock`, ...args])
const pidOf = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined)
const defaultLabPids = () => ['h1', 'h2', 'h3'].map((h) => `${pidOf(`/run/ctl-lab/${h}/sshd.pid`)} ${pidOf(`/run/ctl-lab/${h}/docker.pid`)}`)
const CONTAINER_MARKER = '3607'

/** What the machine itself says is left of instance 7 (not what ctl reports). */
async function leftoversOnMachine() {
  const netns = (await execa('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith('ctl-lab7-'))
  const links = (await execa('ip', ['-o', 'link', 'show'])).stdout.split('\n').filter((l) => /\bctllab7(h\d+)?[@:]/.test(l))
  const processes = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ')
      } catch {
        return ''
      }
    })
    .filter((cmd) => cmd.includes('ctl-lab7') || cmd.includes(`sleep ${CONTAINER_MARKER}`))
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes('ctl-lab7'))
  const cgroups = readdirSync('/sys/fs/cgroup').filter((c) => existsSync(`/sys/fs/cgroup/${c}/ctl-lab7-h1`) || existsSync(`/sys/fs/cgroup/${c}/ctl-lab7-h2`))
  const dirs = ['/var/lib/ctl-lab7', '/run/ctl-lab7'].filter((d) => existsSync(d))
  return {netns, links, processes, mounts, cgroups, dirs}
}
const nothingLeft = {netns: [], links: [], processes: [], mounts: [], cgroups: [], dirs: []}

async function upTwoHosts() {
  const run = await ctl('lab', 'up', '--hosts', '2', '--only', 'hosts', '--only', 'docker', '--json')
  expect(run.exitCode, run.stdout + run.stderr).toBe(0)
  return json(run)
}

async function hostnames(): Promise<string[]> {
  const run = await runCtl(['exec', inventory, '--json', '--', 'hostname'])
  return (json(run).results as Array<{node: string; ok: boolean; stdout?: string}>).map((r) => (r.ok ? r.stdout! : `${r.node} unreachable`))
}

describe('ctl lab down and repair (instance 7)', () => {
  const defaultBefore = defaultLabPids()
  // Start from nothing, whatever an interrupted earlier run left of instance 7.
  beforeAll(async () => {
    await ctl('lab', 'down', '--yes')
  })
  afterAll(async () => {
    await ctl('lab', 'down', '--yes')
  })

  it('comes up with two hosts and a generated inventory', async () => {
    const result = await upTwoHosts()
    expect(result.inventory).toMatch(/\.lab\/lab7-2\.yml$/)
    expect(result.inventoryGenerated).toBe(true)
    expect(await hostnames()).toEqual(['h1', 'h2'])
  })

  it('repairs stale pieces: killed daemons, and a namespace deleted under its running daemons', async () => {
    const h1Sshd = pidOf('/run/ctl-lab7/h1/sshd.pid')!
    const h2Sshd = pidOf('/run/ctl-lab7/h2/sshd.pid')!
    const h1Dockerd = pidOf('/run/ctl-lab7/h1/docker.pid')!
    // As after a crash: no daemon gets to clean up (pid files, sockets and mounts stay behind).
    process.kill(Number(h1Sshd), 'SIGKILL')
    process.kill(Number(h1Dockerd), 'SIGKILL')
    // The namespace's name and link go, but its sshd and dockerd keep running in it, unreachable.
    await execa('ip', ['netns', 'del', 'ctl-lab7-h2'])
    await execa('ip', ['link', 'del', 'ctllab7h2'])
    expect(await hostnames()).toEqual(['h1 unreachable', 'h2 unreachable'])
    const status = json(await ctl('lab', 'status', '--json'))
    expect(status.rows.filter((r: any) => r.component === 'hosts' && r.host).map((r: any) => `${r.host} ${r.ok}`)).toEqual(['h1 false', 'h2 false'])

    await upTwoHosts()
    expect(await hostnames()).toEqual(['h1', 'h2'])
    expect((await docker('h1', 'info', '--format', '{{.Name}}')).stdout).toBe('h1')
    expect(pidOf('/run/ctl-lab7/h1/docker.pid')).not.toBe(h1Dockerd)
    expect(pidOf('/run/ctl-lab7/h2/sshd.pid')).not.toBe(h2Sshd)
    // The daemons left in the orphaned namespace were stopped, not left behind.
    const alive = (pid: string) => existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== ''
    expect(alive(h2Sshd)).toBe(false)
    const rows = json(await ctl('lab', 'status', '--json')).rows.filter((r: any) => r.component === 'hosts' || r.component === 'docker')
    expect(rows.filter((r: any) => !r.ok)).toEqual([])
  })

  it('leaves no namespace, link, process, mount, cgroup or directory behind, even with Swarm and containers', async () => {
    const rootfs = await execa('sh', [
      '-c',
      'd=$(mktemp -d) && mkdir $d/bin && cp /bin/busybox $d/bin/ && ln -s busybox $d/bin/sh && ln -s busybox $d/bin/sleep && echo $d',
    ])
    await execa('sh', ['-c', `tar -C ${rootfs.stdout} -c . | docker -H unix:///run/ctl-lab7/h1/docker.sock import - ctl-lab-test:1`])
    await docker('h1', 'swarm', 'init', '--advertise-addr', '198.18.7.11')
    await docker('h1', 'run', '-d', 'ctl-lab-test:1', 'sleep', CONTAINER_MARKER)
    const before = await leftoversOnMachine()
    expect(before.processes.some((p) => p.includes(`sleep ${CONTAINER_MARKER}`))).toBe(true)
    expect(before.mounts.length).toBeGreaterThan(0)

    const run = await ctl('lab', 'down', '--yes', '--json')
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(json(run).leftovers).toEqual({namespaces: [], links: [], processes: [], mounts: [], dirs: []})
    expect(await leftoversOnMachine()).toEqual(nothingLeft)
  })

  it('refuses down without --yes when there is no terminal', async () => {
    await upTwoHosts()
    const run = await ctl('lab', 'down')
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/--yes/)
    expect(await hostnames()).toEqual(['h1', 'h2'])
  })

  it('did not touch the shared default lab', () => {
    expect(defaultLabPids()).toEqual(defaultBefore)
  })
})
