import {existsSync, readdirSync} from 'node:fs'
import {registryPaths} from './components/registry-files.js'
import {processCommandLine} from './daemon.js'
import {hostIndexOfNetns, labLinkPattern} from './instance.js'
import {listNetns} from './network.js'
import {linksMatching, mountsUnder} from './teardown.js'
import type {LabInstance} from './types.js'

/** What of a lab instance is on the machine: `down --dry-run` lists it, `down` checks it is all gone. */

export interface LabLeftovers {
  namespaces: string[]
  links: string[]
  processes: Array<{pid: number; command: string}>
  mounts: string[]
  dirs: string[]
}

/** Everything of the instance still on the machine (all empty after a clean `down`). */
export async function findLeftovers(instance: LabInstance): Promise<LabLeftovers> {
  const namespaces = (await listNetns()).filter((ns) => hostIndexOfNetns(ns, instance) !== undefined)
  const links = await linksMatching(labLinkPattern(instance))
  const markers = [`${instance.stateDir}/`, `${instance.runDir}/`, `/run/netns/${instance.prefix}-h`]
  const processes: LabLeftovers['processes'] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    const command = processCommandLine(Number(entry))
    if (markers.some((m) => command.includes(m))) processes.push({pid: Number(entry), command})
  }
  const mounts = mountsUnder([instance.stateDir, instance.runDir]).concat(mountsUnder(namespaces.map((ns) => `/run/netns/${ns}`)))
  // The registry's trust dir lives in Docker's certs.d, outside the lab's own directories.
  const dirs = [instance.stateDir, instance.runDir, registryPaths(instance).trustDir].filter((d) => existsSync(d))
  return {namespaces, links, processes, mounts, dirs}
}

export function leftoversCount(l: LabLeftovers): number {
  return l.namespaces.length + l.links.length + l.processes.length + l.mounts.length + l.dirs.length
}
