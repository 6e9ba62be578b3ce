import {dockerCli} from '../docker/index.js'
import type {Inventory, InventoryNode} from '../inventory/schema/index.js'
import {quote, renderCommand} from '../lib/shell.js'
import type {RemoteResult, RemoteRunner} from '../ssh/pool.js'
import {localBackupLocations, type BackupLocation} from '../backups/locations.js'
import {newestBackupScript} from './all/backups.js'
import {portProbeScript, swarmPortProbes} from './all/swarm-ports.js'
import {isSwarmNode} from './targets.js'

/**
 * The host-level facts the checks judge (kernel, free disk, memory, clock, engine version, Swarm
 * ports, newest backups), gathered by ONE command per host per run and shared: every SSH command
 * costs a session and a shell start on the host, so the checks ask once and judge what came back.
 */

interface FactPart {
  /** Exit code of the command that produced it (-1: the answer stopped before it). */
  code: number
  output: string
}

/** Facts some checks need and others do not: gathered only when a selected check names them. */
export type OptionalFact = 'clock' | 'docker' | 'ports' | 'backups'

export interface HostFacts {
  node: string
  uname: FactPart
  df: FactPart
  meminfo: FactPart
  /** `date +%s%N` first and last in the script, with when the command left here and its answer came back (ms). */
  clock?: {start: FactPart; end: FactPart; sentAt: number; receivedAt: number}
  /** `docker version --format {{.Server.Version}}` against the node's engine (Swarm nodes). */
  docker?: FactPart
  /** The swarm-ports probe script's answer (Swarm nodes with peers). */
  ports?: FactPart
  /** The newest-backup script's answer per database whose backups this node may hold. */
  backups: Partial<Record<BackupLocation['database'], FactPart>>
}

const MARK = '__ctl_fact_exit='

/** One part of the facts script: its name in HostFacts and its shell text. */
interface Part {
  name: string
  script: string
  /**
   * A part that may wait (the docker CLI's start, the port probes' waits, a backup directory's walk):
   * it runs in the background while the others run. The quick ones run in place: on the host, each
   * process a command starts costs more than the part itself (the temporary files a background part
   * needs cost a mktemp, two cats and an rm).
   */
  slow?: boolean
}

/** The parts for this node, in the order they run: the clock first and last, so the script's own run time narrows the clock's bounds. */
export function hostFactParts(node: InventoryNode, inventory: Inventory, wanted: ReadonlySet<OptionalFact>): Part[] {
  const parts: Part[] = []
  const clock = {script: 'date +%s%N'}
  if (wanted.has('clock')) parts.push({name: 'clock.start', ...clock})
  parts.push(
    {name: 'uname', script: 'uname -sr'},
    {name: 'df', script: `df -Pk -- ${quote(inventory.limits.diskPath)}`},
    {name: 'meminfo', script: 'cat /proc/meminfo'},
  )
  if (wanted.has('docker') && isSwarmNode(node))
    parts.push({name: 'docker', script: renderCommand(dockerCli(node, ['version', '--format', '{{.Server.Version}}'])), slow: true})
  const probes = swarmPortProbes(node, inventory.nodes)
  if (wanted.has('ports') && isSwarmNode(node) && probes.length > 0) parts.push({name: 'ports', script: portProbeScript(probes).script, slow: true})
  if (wanted.has('backups'))
    for (const location of localBackupLocations(inventory).filter((l) => l.nodes.includes(node.name)))
      parts.push({name: `backups.${location.database}`, script: newestBackupScript(location).script, slow: true})
  if (wanted.has('clock')) parts.push({name: 'clock.end', ...clock})
  return parts
}

/**
 * Each part in a subshell (an `exit` in one ends only that part), stdin from /dev/null, output and
 * errors together, followed by its exit code; one failing does not stop the others. The slow parts
 * start first, at once, each into a file of a private temporary directory (made only when there is
 * one); the quick parts run in place meanwhile; then every part is printed in order. The clock is
 * read before anything starts and after everything ended.
 */
export function hostFactsScript(parts: readonly Part[]): {script: string} {
  const inline = (p: Part) => `(${p.script}\n) </dev/null 2>&1; echo "${MARK}$?"`
  const first = parts[0]?.name === 'clock.start' ? [parts[0]] : []
  const last = parts.at(-1)?.name === 'clock.end' ? [parts.at(-1)!] : []
  const middle = parts.slice(first.length, parts.length - last.length)
  const slow = middle.filter((p) => p.slow)
  const start = slow.map((p, i) => `{ (${p.script}\n) </dev/null >"$d/${i}" 2>&1; echo $? >"$d/${i}.rc"; } &`)
  const inOrder = middle.map((p) => {
    if (!p.slow) return inline(p)
    const i = slow.indexOf(p)
    // The first slow part printed waits for them all.
    return `${i === 0 ? 'wait; ' : ''}cat "$d/${i}"; echo "${MARK}$(cat "$d/${i}.rc")"`
  })
  const background = slow.length > 0 ? [`d=$(mktemp -d) || exit 1`, `trap 'rm -rf "$d"' EXIT`, ...start] : []
  return {script: [...first.map(inline), ...background, ...inOrder, ...last.map(inline)].join('\n')}
}

/** Splits the answer back into the parts, by their exit-code marks; parts after a cut-off answer get code -1. */
export function parseHostFacts(node: string, parts: readonly Part[], stdout: string, timing: {sentAt: number; receivedAt: number}): HostFacts {
  const byName = new Map<string, FactPart>()
  let rest = stdout
  for (const part of parts) {
    const at = rest.indexOf(MARK)
    if (at < 0) {
      byName.set(part.name, {code: -1, output: rest.trim()})
      rest = ''
      continue
    }
    const end = rest.indexOf('\n', at)
    const code = Number(rest.slice(at + MARK.length, end < 0 ? undefined : end))
    byName.set(part.name, {code: Number.isFinite(code) ? code : -1, output: rest.slice(0, at).trim()})
    rest = end < 0 ? '' : rest.slice(end + 1)
  }
  const missing: FactPart = {code: -1, output: ''}
  const get = (name: string) => byName.get(name)
  const start = get('clock.start')
  const end = get('clock.end')
  const backups: HostFacts['backups'] = {}
  for (const [name, part] of byName) if (name.startsWith('backups.')) backups[name.slice('backups.'.length) as BackupLocation['database']] = part
  return {
    node,
    uname: get('uname') ?? missing,
    df: get('df') ?? missing,
    meminfo: get('meminfo') ?? missing,
    ...(start && end ? {clock: {start, end, ...timing}} : {}),
    ...(get('docker') ? {docker: get('docker')} : {}),
    ...(get('ports') ? {ports: get('ports')} : {}),
    backups,
  }
}

/**
 * One facts command per host per run: the first check to ask runs it, the others await the same
 * answer. The command's own duration (measured after the connection is up) dates the clock readings.
 */
export function hostFactsCache(
  remote: RemoteRunner,
  inventory: Inventory,
  wanted: ReadonlySet<OptionalFact>,
  timeoutMs: () => number,
): (node: InventoryNode) => Promise<HostFacts> {
  const cache = new Map<string, Promise<HostFacts>>()
  return (node) => {
    let pending = cache.get(node.name)
    if (!pending) {
      const parts = hostFactParts(node, inventory, wanted)
      pending = remote.run(node, hostFactsScript(parts), {timeoutMs: timeoutMs(), step: 'host facts'}).then((r: RemoteResult) => {
        const receivedAt = Date.now()
        return parseHostFacts(node.name, parts, r.stdout, {sentAt: receivedAt - r.durationMs, receivedAt})
      })
      cache.set(node.name, pending)
      // A failure is not kept: the next check asks the runner again, which then says why (host unreachable).
      pending.catch(() => cache.delete(node.name))
    }
    return pending
  }
}

/** The facts the selected checks judge. */
export function wantedFacts(checks: ReadonlyArray<{facts?: readonly OptionalFact[]}>): Set<OptionalFact> {
  return new Set(checks.flatMap((c) => c.facts ?? []))
}
