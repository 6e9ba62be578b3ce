import {forEachLimited} from 'ctl/lib/limit.js'
import {dockerdPaths, dockerdPid, engineGet, ensureDockerd, stopDockerd} from '../dockerd.js'
import type {LabComponent, LabStatusRow} from '../types.js'

/** One dockerd per lab host (own data root, exec root, socket, pid file, cgroup parent). */
export const dockerComponent: LabComponent = {
  name: 'docker',
  packages: ['docker.io'],

  async up(ctx) {
    // Two at a time: each start briefly uses a whole core (containerd, iptables, bridge setup).
    await forEachLimited(ctx.hosts, 2, async (host) => {
      const outcome = await ensureDockerd(host, ctx.log)
      if (outcome !== 'running') ctx.log(`${host.name}: dockerd ${outcome}`)
    })
  },

  async down(ctx) {
    await forEachLimited(ctx.hosts, 8, async (host) => {
      ctx.log(`${host.name}: stopping dockerd`)
      await stopDockerd(host)
    })
  },

  async status(ctx) {
    return Promise.all(
      ctx.hosts.map(async (host): Promise<LabStatusRow> => {
        const pid = dockerdPid(host)
        const info = pid === undefined ? undefined : await engineGet(dockerdPaths(host).socket, '/info', 3000)
        if (pid === undefined) return {component: 'docker', host: host.name, ok: false, detail: `dockerd not running (see ${dockerdPaths(host).log})`}
        if (info?.status !== 200) return {component: 'docker', host: host.name, ok: false, detail: `dockerd ${pid} does not answer on ${host.dockerSocket}`}
        const parsed = JSON.parse(info.body) as {ServerVersion?: string; Containers?: number; Swarm?: {LocalNodeState?: string}}
        return {
          component: 'docker',
          host: host.name,
          ok: true,
          detail: `engine ${parsed.ServerVersion ?? '?'}, ${parsed.Containers ?? 0} containers, swarm ${parsed.Swarm?.LocalNodeState || 'inactive'}`,
        }
      }),
    )
  },
}
