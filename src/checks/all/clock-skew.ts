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

/** The sample from one round trip: the remote time is taken somewhere between `sentAt` and `receivedAt`. */
export function clockSample(node: string, sentAt: number, remoteEpochNs: string, receivedAt: number): ClockSample {
  const remoteMs = Number(BigInt(remoteEpochNs.trim()) / 1_000_000n)
  return {node, offsetMs: remoteMs - (sentAt + receivedAt) / 2, uncertaintyMs: (receivedAt - sentAt) / 2}
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

/** The best of a few round trips (the shortest one bounds the remote time most tightly). */
async function measure(remote: RemoteRunner, node: InventoryNode, timeoutMs: number, rounds = 3): Promise<ClockSample> {
  let best: ClockSample | undefined
  for (let i = 0; i < rounds; i++) {
    const sentAt = Date.now()
    const result = await remote.run(node, ['date', '+%s%N'], {timeoutMs, step: 'date'})
    const receivedAt = Date.now()
    if (result.code !== 0 || !/^\d{10,}$/.test(result.stdout.trim())) throw cannotRun(`\`date +%s%N\` gave no nanosecond time: ${outputTail(result)}`, {host: node.name, hint: 'ctl expects GNU date on the nodes.'})
    const sample = clockSample(node.name, sentAt, result.stdout, receivedAt)
    if (!best || sample.uncertaintyMs < best.uncertaintyMs) best = sample
  }
  return best!
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
