import {mkdirSync, rmSync} from 'node:fs'
import {request} from 'node:http'
import {CtlError} from 'ctl/lib/errors.js'
import {asHostDaemon, runningDaemon, startDetached, stopProcess, strayDaemon, waitFor} from './daemon.js'
import {cgroupPids} from './teardown.js'
import type {LabHost} from './types.js'

/**
 * Address ranges of a lab engine. Each dockerd lives in its own network namespace, so every host can
 * use the same ranges; they sit in 198.19.0.0/16 (RFC 2544 benchmarking range, like the lab subnet)
 * so no lab traffic is ever addressed to a private range.
 */
const LAB_DOCKER_BIP = '198.19.0.1/24'
const LAB_DOCKER_ADDRESS_POOL = 'base=198.19.128.0/17,size=24'
/** For `docker swarm init --default-addr-pool` (inventories/lab.yml `swarm.defaultAddrPool`). */
export const LAB_SWARM_ADDRESS_POOL = '198.19.64.0/18'

export function dockerdPaths(host: LabHost) {
  return {
    dataRoot: `${host.stateDir}/docker`,
    execRoot: `${host.runDir}/docker-exec`,
    socket: host.dockerSocket,
    pidFile: `${host.runDir}/docker.pid`,
    log: `${host.stateDir}/dockerd.log`,
  }
}

/**
 * The dockerd of a lab host, in its namespace. dockerd starts its own containerd under the exec
 * root; `--cgroup-parent` puts the host's containers under `/<netns>` so `down` can find them all.
 */
export function dockerdCommand(host: LabHost): string[] {
  const p = dockerdPaths(host)
  return asHostDaemon(host, [
    'dockerd',
    '--data-root',
    p.dataRoot,
    '--exec-root',
    p.execRoot,
    '-H',
    `unix://${p.socket}`,
    '--pidfile',
    p.pidFile,
    '--storage-driver',
    'vfs',
    '--cgroup-parent',
    `/${host.netns}`,
    '--bip',
    LAB_DOCKER_BIP,
    '--default-address-pool',
    LAB_DOCKER_ADDRESS_POOL,
  ])
}

/** GET <path> on the engine's socket: status code and body, or undefined when nothing answers. */
export function engineGet(socket: string, path: string, timeoutMs = 2000): Promise<{status: number; body: string} | undefined> {
  return new Promise((resolve) => {
    const req = request({socketPath: socket, path, method: 'GET', timeout: timeoutMs}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
    req.end()
  })
}

async function enginePing(socket: string): Promise<boolean> {
  const res = await engineGet(socket, '/_ping', 1000)
  return res?.status === 200
}

export function dockerdPid(host: LabHost): number | undefined {
  return runningDaemon(dockerdPaths(host).pidFile, dockerdPaths(host).dataRoot, host.netns)
}

/** Makes the host's dockerd run and answer; leaves a working one alone. Returns what was done. */
export async function ensureDockerd(host: LabHost, log: (text: string) => void): Promise<string> {
  const p = dockerdPaths(host)
  const stray = strayDaemon(p.pidFile, p.dataRoot, host.netns)
  if (stray !== undefined) {
    log(`${host.name}: stopping stray dockerd ${stray}`)
    await stopProcess(stray, 15_000)
  }
  // dockerd reuses a live containerd from its pid file; one left in another namespace must go.
  const strayContainerd = strayDaemon(`${p.execRoot}/containerd/containerd.pid`, p.execRoot, host.netns)
  if (strayContainerd !== undefined) {
    log(`${host.name}: stopping stray containerd ${strayContainerd}`)
    await stopProcess(strayContainerd, 10_000)
  }
  const pid = dockerdPid(host)
  if (pid !== undefined && (await waitFor(() => enginePing(p.socket), 5000, 200))) return 'running'
  if (pid !== undefined) {
    log(`${host.name}: dockerd ${pid} does not answer; restarting it`)
    await stopProcess(pid, 15_000)
  }
  mkdirSync(p.dataRoot, {recursive: true, mode: 0o710})
  mkdirSync(p.execRoot, {recursive: true, mode: 0o700})
  // A pid file naming some other live process would make dockerd refuse to start.
  rmSync(p.pidFile, {force: true})
  log(`${host.name}: starting dockerd`)
  startDetached(dockerdCommand(host), p.log)
  if (!(await waitFor(() => enginePing(p.socket), 60_000, 200))) {
    throw new CtlError(`dockerd of ${host.name} does not answer on ${p.socket}`, {host: host.name, step: 'dockerd', hint: `See the end of ${p.log}`})
  }
  return 'started'
}

/** Stops the host's engine for good: its containers are killed first (the lab is being removed). */
export async function stopDockerd(host: LabHost): Promise<boolean> {
  const pid = dockerdPid(host) ?? strayDaemon(dockerdPaths(host).pidFile, dockerdPaths(host).dataRoot, host.netns)
  // Without this, dockerd would give every container its 10 s stop timeout.
  for (const containerPid of cgroupPids(host.netns)) {
    try {
      process.kill(containerPid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  // On SIGTERM dockerd cleans up its networks and stops its own containerd.
  return pid === undefined ? true : stopProcess(pid, 30_000)
}
