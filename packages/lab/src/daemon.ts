import {spawn} from 'node:child_process'
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, statSync} from 'node:fs'
import {dirname} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {CtlError} from 'ctl/lib/errors.js'

/**
 * Lab daemons (sshd, dockerd) run inside a host's network namespace and must outlive ctl. They are
 * entered with `nsenter --net` rather than `ip netns exec`: the latter also remounts /sys, which
 * hides the cgroup mounts dockerd needs for containers.
 */

function netnsPath(netns: string): string {
  return `/run/netns/${netns}`
}

/** `nsenter --net=/run/netns/<ns> <argv>`: runs argv in the namespace's network stack only. */
export function inNetns(netns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${netnsPath(netns)}`, ...argv]
}

/**
 * Runs argv as a lab host's daemon: in its network namespace and in a UTS namespace of its own whose
 * hostname is the host's name, so engines, Swarm nodes and SSH sessions see `h1`, `h2`, ...
 */
export function asHostDaemon(host: {netns: string; name: string}, argv: readonly string[]): string[] {
  return inNetns(host.netns, ['unshare', '--uts', '--', 'sh', '-c', 'hostname "$1" && shift && exec "$@"', 'sh', host.name, ...argv])
}

/**
 * Like asHostDaemon, plus a mount namespace of its own in which `home` is bound on /root, so what the
 * daemon starts (SSH sessions) sees a root home of this host and the rest of the machine's files as
 * they are. Propagation `slave`: mounts made on the machine later (netns, docker) still reach it,
 * its own bind never leaves it.
 */
export function asHostDaemonWithHome(host: {netns: string; name: string}, home: string, argv: readonly string[]): string[] {
  return asHostDaemonWithBinds(host, [[home, '/root']], argv)
}

/**
 * Like asHostDaemon, in a mount namespace of its own in which each [source, target] of `binds` is
 * bound (a lab host's own /root, /etc/cron.d, ...), passed as arguments, never spliced into the script.
 */
export function asHostDaemonWithBinds(host: {netns: string; name: string}, binds: readonly (readonly [string, string])[], argv: readonly string[]): string[] {
  return inNetns(host.netns, [
    'unshare',
    '--uts',
    '--mount',
    '--propagation',
    'slave',
    '--',
    'sh',
    '-c',
    'hostname "$1" && shift && while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 1; shift 2; done && shift && exec "$@"',
    'sh',
    host.name,
    ...binds.flat(),
    '--',
    ...argv,
  ])
}

/** Whether the process sees something mounted on `mountPoint` (its own /proc/<pid>/mountinfo). */
export function hasMountAt(pid: number, mountPoint: string): boolean {
  try {
    // mountinfo fields: id parent major:minor root mount-point ...
    return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[4] === mountPoint)
  } catch {
    return false
  }
}

/**
 * Starts a long-running program detached from ctl (own session, output appended to a log file) and
 * returns its pid. ctl's one process runner (runLocal) waits for its children, so daemons use this.
 */
export function startDetached(argv: readonly string[], logFile: string): number {
  const [file, ...args] = argv
  if (!file) throw new Error('startDetached needs a program')
  mkdirSync(dirname(logFile), {recursive: true})
  const fd = openSync(logFile, 'a')
  try {
    const child = spawn(file, args, {detached: true, stdio: ['ignore', fd, fd]})
    child.unref()
    if (child.pid === undefined) throw new CtlError(`Could not start ${file}`, {code: 'lab.start'})
    return child.pid
  } finally {
    closeSync(fd)
  }
}

export function readPidFile(path: string): number | undefined {
  if (!existsSync(path)) return undefined
  const pid = Number(readFileSync(path, 'utf8').trim())
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The command line of a process, words joined by spaces ('' when it is gone). */
export function processCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
  } catch {
    return ''
  }
}

/** Whether a process lives in the named network namespace (same nsfs inode); undefined: the root one (ctl's own). */
function isInNetns(pid: number, netns: string | undefined): boolean {
  try {
    const link = readlinkSync(`/proc/${pid}/ns/net`) // net:[4026532xxx]
    const inode = /\[(\d+)\]/.exec(link)?.[1]
    return inode !== undefined && String(statSync(netns === undefined ? '/proc/self/ns/net' : netnsPath(netns)).ino) === inode
  } catch {
    return false
  }
}

/**
 * The pid from a pid file when that process is alive, is the expected program (its command line
 * contains `marker`) and runs in `netns` (undefined: the root namespace). A stale pid file, a recycled pid or a daemon left in an
 * orphaned namespace all count as not running.
 */
export function runningDaemon(pidFile: string, marker: string, netns: string | undefined): number | undefined {
  const pid = readPidFile(pidFile)
  if (pid === undefined || !isAlive(pid)) return undefined
  if (!processCommandLine(pid).includes(marker)) return undefined
  return isInNetns(pid, netns) ? pid : undefined
}

/** A daemon from our pid file that runs but not where it should (e.g. its namespace was deleted). */
export function strayDaemon(pidFile: string, marker: string, netns: string): number | undefined {
  const pid = readPidFile(pidFile)
  if (pid === undefined || !isAlive(pid) || !processCommandLine(pid).includes(marker)) return undefined
  return isInNetns(pid, netns) ? undefined : pid
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. Returns true when the process is gone. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<boolean> {
  if (!isAlive(pid)) return true
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return !isAlive(pid)
  }
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    if (!isAlive(pid) || isZombie(pid)) return true
    await sleep(100)
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
  await sleep(100)
  return !isAlive(pid) || isZombie(pid)
}

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() >= deadline) return false
    await sleep(intervalMs)
  }
}
