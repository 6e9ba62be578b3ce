import type {Finding} from '../checks/types.js'
import type {RedisMemberFacts} from './facts.js'

/**
 * Redis with Sentinel, judged from every member's facts (src/redis/facts.ts): one master that a
 * majority of the sentinels name, every sentinel naming it, that master saying it is one, every other
 * member its replica with the link up and within maxLagBytes of the master's offset. Pure.
 */

export interface SentinelView {
  /** The master most answering sentinels name, when a majority of all members' sentinels do. */
  master?: {address: string; port: number}
  agreeing: number
  members: number
}

const key = (a: {address: string; port: number}) => `${a.address}:${a.port}`

export function sentinelView(facts: readonly RedisMemberFacts[]): SentinelView {
  const votes = new Map<string, {address: string; port: number; n: number}>()
  for (const f of facts) {
    if (!f.sentinelMaster) continue
    const k = key(f.sentinelMaster)
    votes.set(k, {...f.sentinelMaster, n: (votes.get(k)?.n ?? 0) + 1})
  }
  const best = [...votes.values()].sort((a, b) => b.n - a.n)[0]
  const majority = Math.floor(facts.length / 2) + 1
  return {
    ...(best && best.n >= majority ? {master: {address: best.address, port: best.port}} : {}),
    agreeing: best?.n ?? 0,
    members: facts.length,
  }
}

/** How far a replica is behind the master, in bytes of the replication stream; undefined when unknown. */
export function replicaLagBytes(master: RedisMemberFacts | undefined, replica: RedisMemberFacts): number | undefined {
  if (master?.offset === undefined || replica.offset === undefined) return undefined
  return Math.max(0, master.offset - replica.offset)
}

export function judgeRedis(env: string, facts: readonly RedisMemberFacts[], maxLagBytes: number): Finding[] {
  const view = sentinelView(facts)
  const master = view.master && facts.find((f) => f.address === view.master!.address && f.port === view.master!.port)
  const failover = `ctl runbook redis-failover ${env}`
  return facts.map((f): Finding => {
    const target = f.node
    if (!f.role)
      return {
        target,
        status: 'fail',
        detail: `redis-server ${f.address}:${f.port} does not answer: ${f.error ?? 'no answer'}`,
        hint: `Start redis-server on ${f.node}; the sentinels add it back as a replica.`,
      }
    if (!f.sentinelMaster)
      return {
        target,
        status: 'fail',
        detail: `redis ${f.role}, but its sentinel does not answer`,
        hint: `Start redis-sentinel on ${f.node}: with fewer than a majority, no failover can happen.`,
      }
    if (!view.master)
      return {
        target,
        status: 'fail',
        detail: `no master a majority of sentinels agree on (${view.agreeing} of ${view.members} name the same one)`,
        hint: 'Look at each sentinel: SENTINEL get-master-addr-by-name; restart the ones that disagree.',
      }
    if (key(f.sentinelMaster) !== key(view.master))
      return {
        target,
        status: 'fail',
        detail: `its sentinel names ${key(f.sentinelMaster)}, the majority ${key(view.master)}`,
        hint: `Restart the sentinel on ${f.node}: it rejoins the majority's view.`,
      }
    if (f === master) {
      if (f.role !== 'master')
        return {
          target,
          status: 'fail',
          detail: `the sentinels name it master but it says ${f.role}`,
          hint: `A failover is under way or stuck: wait a few seconds, or ${failover}.`,
        }
      const online = f.replicas.filter((r) => r.state === 'online').length
      const detail = `master, ${online} of ${facts.length - 1} replicas online, offset ${f.offset ?? '?'}; ${view.agreeing} of ${view.members} sentinels agree`
      if (online < facts.length - 1) return {target, status: 'fail', detail, hint: 'Start the missing replicas; each resyncs from the master.'}
      if (f.quorum && !f.quorum.ok)
        return {target, status: 'fail', detail: `${detail}; ${f.quorum.detail}`, hint: 'Sentinel says no failover could be authorised now.'}
      return {target, status: 'pass', detail}
    }
    if (f.role === 'master')
      return {
        target,
        status: 'fail',
        detail: `says it is a master while the sentinels name ${key(view.master)} (split brain)`,
        hint: `Its writes are lost to the others: make it a replica (REPLICAOF ${view.master.address} ${view.master.port}) or ${failover} --to it.`,
      }
    if (f.masterHost !== view.master.address || f.masterPort !== view.master.port)
      return {
        target,
        status: 'fail',
        detail: `replica of ${f.masterHost}:${f.masterPort}, not of the master ${key(view.master)}`,
        hint: 'The sentinels reconfigure it within seconds; if not, restart its sentinel.',
      }
    const lag = replicaLagBytes(master, f)
    const detail = `replica of ${key(view.master)}, link ${f.linkUp ? 'up' : 'down'}, ${lag === undefined ? 'lag unknown' : `${lag} bytes behind`}`
    if (!f.linkUp)
      return {target, status: 'fail', detail, hint: `The replica cannot reach its master or is resyncing: see the log of redis-server on ${f.node}.`}
    if (lag === undefined || lag > maxLagBytes)
      return {target, status: 'fail', detail: `${detail} (at most ${maxLagBytes})`, hint: 'It is not in sync: a failover to it would lose writes.'}
    return {target, status: 'pass', detail}
  })
}
