import {existsSync, readdirSync, readFileSync, rmdirSync, rmSync} from 'node:fs'
import {runLocal} from 'ctl/lib/local.js'
import {stopProcess} from './daemon.js'

/**
 * Removing what the lab made: processes in its namespaces and cgroups, mounts under its
 * directories, the namespaces, links and directories themselves. Every function takes exact
 * names or path prefixes of the lab, so nothing else on the machine is touched.
 */

const CGROUP_ROOT = '/sys/fs/cgroup'

/** Pids of every process in the network namespace (`ip netns pids`). */
export async function netnsPids(netns: string): Promise<number[]> {
  const result = await runLocal(['ip', 'netns', 'pids', netns], {timeoutMs: 10_000, check: false})
  if (result.code !== 0) return []
  return result.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid !== process.pid)
}

/** The cgroup directories named after the host's namespace (one per v1 controller, and v2). */
function hostCgroupDirs(netns: string): string[] {
  if (!existsSync(CGROUP_ROOT)) return []
  const dirs: string[] = []
  for (const controller of readdirSync(CGROUP_ROOT)) {
    const dir = `${CGROUP_ROOT}/${controller}/${netns}`
    if (existsSync(dir)) dirs.push(dir)
  }
  if (existsSync(`${CGROUP_ROOT}/cgroup.procs`) && existsSync(`${CGROUP_ROOT}/${netns}`)) dirs.push(`${CGROUP_ROOT}/${netns}`)
  return [...new Set(dirs)]
}

function cgroupTree(dir: string): string[] {
  const out = [dir]
  for (const entry of readdirSync(dir, {withFileTypes: true})) if (entry.isDirectory()) out.push(...cgroupTree(`${dir}/${entry.name}`))
  return out
}

/** Pids in the host's container cgroups (containers live in their own network namespaces). */
export function cgroupPids(netns: string): number[] {
  const pids = new Set<number>()
  for (const dir of hostCgroupDirs(netns)) {
    for (const sub of cgroupTree(dir)) {
      try {
        for (const line of readFileSync(`${sub}/cgroup.procs`, 'utf8').split('\n')) if (line.trim()) pids.add(Number(line))
      } catch {
        // a cgroup vanished while we looked
      }
    }
  }
  return [...pids]
}

/** Removes the host's cgroup directories, deepest first (they must be empty of processes). */
export function removeCgroups(netns: string): void {
  for (const dir of hostCgroupDirs(netns)) {
    for (const sub of cgroupTree(dir).reverse()) {
      try {
        rmdirSync(sub)
      } catch {
        // still busy or already gone: reported by the leftovers check
      }
    }
  }
}

/** SIGTERM then SIGKILL every given process, in parallel. Returns the pids still alive after that. */
export async function killAll(pids: readonly number[], graceMs = 5000): Promise<number[]> {
  // stopProcess counts a zombie as gone: pid 1 reaps it a moment later.
  const stopped = await Promise.all(pids.map((pid) => stopProcess(pid, graceMs)))
  return pids.filter((_, i) => !stopped[i])
}

/** Mount points at or under any of the prefixes, deepest first (from /proc/mounts). */
export function mountsUnder(prefixes: readonly string[], mountsText = readFileSync('/proc/mounts', 'utf8')): string[] {
  const points = mountsText
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((p): p is string => Boolean(p))
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => prefixes.some((prefix) => p === prefix || p.startsWith(`${prefix}/`)))
  return [...new Set(points)].sort((a, b) => b.length - a.length)
}

/** Unmounts (lazily, so a busy mount cannot block down) everything under the prefixes. */
export async function unmountUnder(prefixes: readonly string[]): Promise<string[]> {
  const points = mountsUnder(prefixes)
  for (const point of points) await runLocal(['umount', '-l', point], {timeoutMs: 10_000, check: false})
  return points
}

export async function deleteNetns(netns: string): Promise<void> {
  await runLocal(['ip', 'netns', 'del', netns], {timeoutMs: 10_000, check: false})
}

export async function deleteLink(name: string): Promise<void> {
  await runLocal(['ip', 'link', 'del', name], {timeoutMs: 10_000, check: false})
}

/** Names of links in the root namespace matching the pattern. */
export async function linksMatching(pattern: RegExp): Promise<string[]> {
  const {stdout} = await runLocal(['ip', '-j', 'link', 'show'], {timeoutMs: 10_000})
  return (JSON.parse(stdout || '[]') as Array<{ifname: string}>).map((l) => l.ifname).filter((name) => pattern.test(name))
}

export function removeDir(path: string): void {
  rmSync(path, {recursive: true, force: true})
}
