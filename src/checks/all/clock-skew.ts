import type {HostFacts} from '../host-facts.js'
import {cannotRun} from '../remote-errors.js'
import type {CheckDefinition, Finding} from '../types.js'

/** What one round trip proves: the remote clock was read between `sentAt` and `receivedAt`, so its offset from ours lies in [low, high]. */
export interface OffsetBounds {
  low: number
  high: number
}

/** One node's clock against ours, as an interval that holds the true offset. */
export interface ClockSample extends OffsetBounds {
  node: string
}

export function offsetBounds(sentAt: number, remoteEpochNs: string, receivedAt: number): OffsetBounds {
  const remoteMs = Number(BigInt(remoteEpochNs.trim()) / 1_000_000n)
  return {low: remoteMs - receivedAt, high: remoteMs - sentAt}
}

/**
 * The offset most nodes agree on (Marzullo's algorithm): the middle of the region covered by the
 * most intervals. One bad clock then stands out instead of shifting the reference.
 */
export function consensusOffset(samples: readonly OffsetBounds[]): number {
  const edges = samples
    .flatMap((s) => [
      {at: s.low, delta: 1},
      {at: s.high, delta: -1},
    ])
    .sort((a, b) => a.at - b.at || b.delta - a.delta)
  let depth = 0
  let best = -1
  let reference = 0
  edges.forEach((edge, i) => {
    depth += edge.delta
    if (edge.delta === 1 && depth > best) {
      best = depth
      reference = (edge.at + (edges[i + 1]?.at ?? edge.at)) / 2
    }
  })
  return reference
}

/**
 * Skew of each node from the consensus: fail when it is over the limit even at the nearest end of
 * its interval, warn when only the measurement's uncertainty hides whether it is.
 */
export function judgeClockSkew(samples: readonly ClockSample[], maxSkewMs: number): Finding[] {
  if (samples.length < 2) return samples.map((s) => ({target: s.node, status: 'pass', detail: 'only one reachable node: nothing to compare'}))
  const reference = consensusOffset(samples)
  return samples.map((s) => {
    const nearest = reference < s.low ? s.low - reference : reference > s.high ? reference - s.high : 0
    const farthest = Math.max(Math.abs(reference - s.low), Math.abs(reference - s.high))
    const off = Math.round((s.low + s.high) / 2 - reference)
    const detail = `${off >= 0 ? '+' : ''}${off} ms from the nodes' consensus (±${Math.ceil((s.high - s.low) / 2)} ms, limit ${maxSkewMs} ms)`
    if (nearest > maxSkewMs)
      return {
        target: s.node,
        status: 'fail',
        detail,
        hint: `Fix time sync on ${s.node} (chrony/systemd-timesyncd): Swarm's Raft, TLS and Galera need close clocks.`,
      }
    if (farthest > maxSkewMs)
      return {
        target: s.node,
        status: 'warn',
        detail: `${detail}: the round trips are too slow to tell`,
        hint: 'Rerun when the hosts are less busy, or compare `date` on the nodes by hand.',
      }
    return {target: s.node, status: 'pass', detail}
  })
}

/**
 * The offset bounds of one node from its host facts: the script read its clock first (t1) and last
 * (t2), and ran within the command's round trip [sentAt, receivedAt] here. The first reading was
 * taken at least (t2 - t1) before the answer came back, so the offset lies in
 * [t2 - receivedAt, t1 - sentAt]: the round trip minus the script's own run time.
 */
export function clockBoundsFromFacts(node: string, clock: NonNullable<HostFacts['clock']>): ClockSample {
  for (const reading of [clock.start, clock.end]) {
    if (reading.code !== 0 || !/^\d{10,}$/.test(reading.output.trim()))
      throw cannotRun(`\`date +%s%N\` gave no nanosecond time: ${reading.output.slice(0, 200)}`, {host: node, hint: 'ctl expects GNU date on the nodes.'})
  }
  const first = offsetBounds(clock.sentAt, clock.start.output, clock.receivedAt)
  const last = offsetBounds(clock.sentAt, clock.end.output, clock.receivedAt)
  const tight = {low: last.low, high: first.high}
  // Empty only if the clock stepped during the script: the first reading's round trip alone.
  return {node, ...(tight.low <= tight.high ? tight : first)}
}

export const clockSkewCheck: CheckDefinition = {
  id: 'clock-skew',
  title: 'Clock skew between nodes',
  needs: "SSH, GNU date (read with the ssh check's host facts)",
  readsHostFacts: 'every-node',
  facts: ['clock'],
  // All nodes in one target: the budget grows with the nodes.
  timeoutMs: (inventory) => 20_000 + 1_000 * inventory.nodes.length,
  targets: (inventory) => (inventory.nodes.length > 0 ? [{name: 'nodes'}] : []),
  async run(ctx) {
    const nodes = ctx.inventory.nodes.filter((n) => ctx.isReachable(n))
    const samples = await Promise.all(
      nodes.map(async (n) => {
        const {clock} = await ctx.hostFacts(n)
        if (!clock) throw cannotRun(`the clock of ${n.name} was not gathered`, {host: n.name})
        return clockBoundsFromFacts(n.name, clock)
      }),
    )
    return judgeClockSkew(samples, ctx.inventory.limits.maxClockSkewMs)
  },
}
