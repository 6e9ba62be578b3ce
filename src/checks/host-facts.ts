import type {InventoryNode} from '../inventory/schema/index.js'
import {quote} from '../lib/shell.js'
import type {RemoteResult, RemoteRunner} from '../ssh/pool.js'

/**
 * The host-level facts several checks read (kernel, free disk, memory), gathered in one round trip
 * per host and shared: on a busy host every SSH command costs a shell start, so three checks ask once.
 */

interface FactPart {
  /** Exit code of the command that produced it. */
  code: number
  output: string
}

export interface HostFacts {
  node: string
  uname: FactPart
  df: FactPart
  meminfo: FactPart
}

const MARK = '__ctl_fact_exit='

/** `uname -sr`, `df -Pk -- <diskPath>`, `cat /proc/meminfo`, each followed by its exit code; one failing does not stop the others. */
export function hostFactsScript(diskPath: string): {script: string} {
  const part = (command: string) => `${command} 2>&1; echo "${MARK}$?"`
  return {script: [part('uname -sr'), part(`df -Pk -- ${quote(diskPath)}`), part('cat /proc/meminfo')].join('; ')}
}

export function parseHostFacts(node: string, stdout: string): HostFacts {
  const parts: FactPart[] = []
  let rest = stdout
  for (let i = 0; i < 3; i++) {
    const at = rest.indexOf(MARK)
    if (at < 0) {
      parts.push({code: -1, output: rest.trim()})
      rest = ''
      continue
    }
    const end = rest.indexOf('\n', at)
    const code = Number(rest.slice(at + MARK.length, end < 0 ? undefined : end))
    parts.push({code: Number.isFinite(code) ? code : -1, output: rest.slice(0, at).trim()})
    rest = end < 0 ? '' : rest.slice(end + 1)
  }
  return {node, uname: parts[0]!, df: parts[1]!, meminfo: parts[2]!}
}

/** One facts command per host per run: the first check to ask runs it, the others await the same answer. */
export function hostFactsCache(remote: RemoteRunner, diskPath: string, timeoutMs: () => number): (node: InventoryNode) => Promise<HostFacts> {
  const cache = new Map<string, Promise<HostFacts>>()
  return (node) => {
    let pending = cache.get(node.name)
    if (!pending) {
      pending = remote
        .run(node, hostFactsScript(diskPath), {timeoutMs: timeoutMs(), step: 'host facts'})
        .then((r: RemoteResult) => parseHostFacts(node.name, r.stdout))
      cache.set(node.name, pending)
      // A failure is not kept: the next check asks the runner again, which then says why (host unreachable).
      pending.catch(() => cache.delete(node.name))
    }
    return pending
  }
}
