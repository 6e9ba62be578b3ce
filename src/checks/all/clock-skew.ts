import {cannotRun, outputTail} from '../remote-errors.js'
import type {InventoryNode} from '../../inventory/schema/index.js'
import type {RemoteRunner} from '../../ssh/pool.js'
import type {CheckDefinition, Finding} from '../types.js'

/** One node's clock against ours: its offset, known within ± half the round trip. */
export interface ClockSample {
  node: string
  offsetMs: number
  uncertaintyMs: number
}

/** What one round trip proves: the remote clock was read between `sentAt` and `receivedAt`, so its offset lies in [low, high]. */
export interface OffsetBounds {
  low: number
  high: number
}

export function offsetBounds(sentAt: number, remoteEpochNs: string, receivedAt: number): OffsetBounds {
  const remoteMs = Number(BigInt(remoteEpochNs.trim()) / 1_000_000n)
  return {low: remoteMs - receivedAt, high: remoteMs - sentAt}
}

/**
 * Intersects the bounds of several round trips (each one holds the true offset, so all do at once):
 * much tighter than any single trip when the delays vary, as they do on a busy host.
 */
export function combineBounds(node: string, bounds: readonly OffsetBounds[]): ClockSample {
  const low = Math.max(...bounds.map((b) => b.low))
  const high = Math.min(...bounds.map((b) => b.high))
  // Empty only if a clock stepped between trips: fall back to the narrowest single trip.
  const range = low <= high ? {low, high} : [...bounds].sort((a, b) => a.high - a.low - (b.high - b.low))[0]!
  return {node, offsetMs: (range.low + range.high) / 2, uncertaintyMs: (range.high - range.low) / 2}
}

/** The lower median: a real node's clock, so the reference is never between two camps. */
function medianNode(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)]!
}

/**
 * Skew between nodes, judged against the median node's clock (so one bad clock stands out rather
 * than shifting everyone): fail when a node is off by more than the limit even allowing for the
 * measurement's uncertainty, warn when only the uncertainty hides whether it is.
 */
export function judgeClockSkew(samples: readonly ClockSample[], maxSkewMs: number): Finding[] {
  if (samples.length < 2) return samples.map((s) => ({target: s.node, status: 'pass', detail: 'only one reachable node: nothing to compare'}))
  const reference = medianNode(samples.map((s) => s.offsetMs))
  return samples.map((s) => {
    const off = Math.round(s.offsetMs - reference)
    const within = Math.ceil(s.uncertaintyMs)
    const detail = `${off >= 0 ? '+' : ''}${off} ms from the median node (±${within} ms, limit ${maxSkewMs} ms)`
    if (Math.abs(off) - within > maxSkewMs) return {target: s.node, status: 'fail', detail, hint: `Fix time sync on ${s.node} (chrony/systemd-timesyncd): Swarm's Raft, TLS and Galera need close clocks.`}
    if (Math.abs(off) > maxSkewMs) return {target: s.node, status: 'warn', detail: `${detail}: the link is too slow to tell`, hint: 'Rerun the check; compare `date` on the nodes by hand.'}
    return {target: s.node, status: 'pass', detail}
  })
}

/** A few round trips to one node, combined. */
async function measure(remote: RemoteRunner, node: InventoryNode, timeoutMs: number, rounds = 3): Promise<ClockSample> {
  const bounds: OffsetBounds[] = []
  for (let i = 0; i < rounds; i++) {
    const sentAt = Date.now()
    const result = await remote.run(node, ['date', '+%s%N'], {timeoutMs, step: 'date'})
    const receivedAt = Date.now()
    if (result.code !== 0 || !/^\d{10,}$/.test(result.stdout.trim())) throw cannotRun(`\`date +%s%N\` gave no nanosecond time: ${outputTail(result)}`, {host: node.name, hint: 'ctl expects GNU date on the nodes.'})
    bounds.push(offsetBounds(sentAt, result.stdout, receivedAt))
  }
  return combineBounds(node.name, bounds)
}

export const clockSkewCheck: CheckDefinition = {
  id: 'clock-skew',
  title: 'Clock skew between nodes',
  needs: 'SSH, GNU date',
  targets: (inventory) => (inventory.nodes.length > 0 ? [{name: 'nodes'}] : []),
  async run(ctx) {
    const nodes = ctx.inventory.nodes.filter((n) => ctx.isReachable(n))
    const samples = await Promise.all(nodes.map((n) => measure(ctx.remote, n, ctx.timeoutMs)))
    return judgeClockSkew(samples, ctx.inventory.limits.maxClockSkewMs)
  },
}
