import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {json, runCtl} from '../../../../test/support/cli.js'

// The shared default lab (brought up by global-setup): `up` again changes nothing, and every host
// answers over SSH with its own engine. Nothing here stops or breaks the shared lab.
const hosts = ['h1', 'h2', 'h3']
const daemonPids = () => hosts.flatMap((h) => ['sshd', 'docker'].map((d) => `${h}/${d}=${readFileSync(`/run/ctl-lab/${h}/${d}.pid`, 'utf8').trim()}`))

describe('ctl lab up (default lab)', () => {
  it('is idempotent: a second run reports success and restarts no daemon', async () => {
    const before = daemonPids()
    const run = await runCtl(['lab', 'up', '--only', 'hosts', '--only', 'docker', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const result = json(run)
    expect(result.components).toEqual([
      {component: 'hosts', ok: true},
      {component: 'docker', ok: true},
    ])
    expect(result.inventory).toMatch(/inventories\/lab\.yml$/)
    expect(result.hosts.map((h: any) => `${h.name} ${h.address} ${h.netns}`)).toEqual([
      'h1 198.18.0.11 ctl-lab-h1',
      'h2 198.18.0.12 ctl-lab-h2',
      'h3 198.18.0.13 ctl-lab-h3',
    ])
    expect(daemonPids()).toEqual(before)
  })

  it('gives three engines, one per host, reached over SSH with verified host keys', async () => {
    const run = await runCtl([
      'exec',
      'lab',
      // The Swarm nodes (the backup host h4 has no dockerd).
      '--label',
      'type=service',
      '--json',
      '--',
      'sh',
      '-c',
      'hostname; docker info --format "{{.Name}} {{.DockerRootDir}}"; ip -4 -o addr show eth0',
    ])
    expect(run.exitCode, run.stderr).toBe(0)
    const results = json(run).results as Array<{node: string; stdout: string}>
    expect(results.map((r) => r.node)).toEqual(hosts)
    for (const [i, r] of results.entries()) {
      const [hostname, engine, address] = r.stdout.split('\n')
      expect(hostname).toBe(hosts[i])
      expect(engine).toBe(`${hosts[i]} /var/lib/ctl-lab/${hosts[i]}/docker`)
      expect(address).toContain(`inet 198.18.0.${11 + i}/24`)
    }
  })

  it("gives root a fresh server's environment on every host: its own home from /etc/skel, not this machine's rc files", async () => {
    const run = await runCtl([
      'exec',
      'lab',
      '--json',
      '--',
      'sh',
      '-c',
      'cmp -s ~/.bashrc /etc/skel/.bashrc && echo skel; echo "$PATH"; test -d ~/.pyenv || echo bare',
    ])
    expect(run.exitCode, run.stderr).toBe(0)
    const results = json(run).results as Array<{node: string; stdout: string}>
    expect(results.map((r) => `${r.node} ${r.stdout.trim().split('\n').join(' ')}`)).toEqual(
      [...hosts, 'h4'].map((h) => `${h} skel /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bare`),
    )
  })

  it('reports every host and engine in status', async () => {
    const run = await runCtl(['lab', 'status', '--json'])
    const rows = (json(run).rows as Array<{component: string; host?: string; ok: boolean; detail: string}>).filter(
      (r) => r.component === 'hosts' || r.component === 'docker',
    )
    expect(rows.map((r) => `${r.component}/${r.host ?? '-'}/${r.ok}`)).toEqual([
      'hosts/-/true',
      'hosts/h1/true',
      'hosts/h2/true',
      'hosts/h3/true',
      // The backup host: sshd and the MariaDB replica, no dockerd.
      'hosts/h4/true',
      'docker/h1/true',
      'docker/h2/true',
      'docker/h3/true',
    ])
    expect(rows.find((r) => r.component === 'docker' && r.host === 'h2')!.detail).toMatch(/^engine 20\.10/)
  })
})
