import type {RedisMemberFacts} from './facts.js'
import {replicaLagBytes, sentinelView} from './judge.js'

/**
 * Which replica a planned failover goes to: the one asked for, or the healthy replica with the least
 * lag (then the node's name). Refuses when the sentinels agree on no master, when the master does not
 * answer (Sentinel fails over by itself then), and a replica that is not linked to the master or lags
 * beyond maxLagBytes: promoting it would lose the writes it has not received. Pure.
 */

export type FailoverChoice =
  {ok: true; master: RedisMemberFacts; target: RedisMemberFacts; others: RedisMemberFacts[]} | {ok: false; code: string; reason: string; hint: string}

function verdictOf(master: RedisMemberFacts, replica: RedisMemberFacts, maxLagBytes: number): string | undefined {
  if (replica.role !== 'slave') return replica.role ? `it is a ${replica.role}` : `it does not answer (${replica.error ?? 'no answer'})`
  if (replica.masterHost !== master.address || replica.masterPort !== master.port)
    return `it replicates from ${replica.masterHost}:${replica.masterPort}, not the master`
  if (!replica.linkUp) return 'its link to the master is down'
  if (replica.priority === 0) return 'its replica-priority is 0 (never to be promoted)'
  const lag = replicaLagBytes(master, replica)
  if (lag === undefined) return 'its lag is unknown'
  if (lag > maxLagBytes) return `it is ${lag} bytes behind (at most ${maxLagBytes})`
  return undefined
}

export function chooseFailoverTarget(facts: readonly RedisMemberFacts[], maxLagBytes: number, asked?: string): FailoverChoice {
  const view = sentinelView(facts)
  const master = view.master && facts.find((f) => f.address === view.master!.address && f.port === view.master!.port)
  if (!view.master || !master)
    return {
      ok: false,
      code: 'redis.no-master',
      reason: `no master a majority of sentinels agree on among the members (${view.agreeing} of ${view.members} agree)`,
      hint: 'Look at the redis check (ctl check run <env> redis); after every member went down: ctl runbook redis-recover.',
    }
  if (master.role !== 'master')
    return {
      ok: false,
      code: 'redis.master-down',
      reason: `the master the sentinels name (${master.node}) ${master.role ? `says it is a ${master.role}` : 'does not answer'}`,
      hint: 'Sentinel fails over by itself when the master is down (down-after-milliseconds); run the redis check again in a few seconds.',
    }
  const replicas = facts.filter((f) => f !== master)
  if (asked !== undefined) {
    const target = replicas.find((f) => f.node === asked)
    if (!target)
      return {
        ok: false,
        code: 'redis.bad-target',
        reason: asked === master.node ? `${asked} is the master already` : `${asked} is not a member of databases.redis`,
        hint: `Replicas: ${replicas.map((r) => r.node).join(', ') || 'none'}`,
      }
    const why = verdictOf(master, target, maxLagBytes)
    if (why)
      return {
        ok: false,
        code: 'redis.unfit-target',
        reason: `${asked} cannot take over: ${why}`,
        hint: 'Choose another replica, or wait until it has caught up.',
      }
    return {ok: true, master, target, others: replicas.filter((r) => r !== target)}
  }
  const fit = replicas
    .filter((r) => verdictOf(master, r, maxLagBytes) === undefined)
    .sort((a, b) => (replicaLagBytes(master, a) ?? 0) - (replicaLagBytes(master, b) ?? 0) || a.node.localeCompare(b.node))
  const target = fit[0]
  if (!target)
    return {
      ok: false,
      code: 'redis.no-fit-replica',
      reason: `no replica can take over: ${replicas.map((r) => `${r.node}: ${verdictOf(master, r, maxLagBytes)}`).join('; ') || 'there is none'}`,
      hint: 'Bring a replica back in sync first (the redis check shows each one).',
    }
  return {ok: true, master, target, others: replicas.filter((r) => r !== target)}
}

/**
 * What still keeps a failover to `target` from being complete, for the members that answered before
 * it: the sentinels' majority naming the target, the target a master, every other one its replica with
 * the link up and within maxLagBytes. Empty: done. Pure.
 */
export function failoverProblems(facts: readonly RedisMemberFacts[], target: string, answering: readonly string[], maxLagBytes: number): string[] {
  const view = sentinelView(facts)
  const promoted = facts.find((f) => f.node === target)
  const problems: string[] = []
  if (!promoted || promoted.role !== 'master') problems.push(`${target} is ${promoted?.role ?? 'not answering'}, not a master`)
  if (!promoted || !view.master || view.master.address !== promoted.address || view.master.port !== promoted.port)
    problems.push(`the sentinels' majority names ${view.master ? `${view.master.address}:${view.master.port}` : 'no master'}`)
  for (const f of facts) {
    if (f === promoted || !answering.includes(f.node)) continue
    if (f.sentinelMaster && promoted && f.sentinelMaster.address !== promoted.address) problems.push(`${f.node}'s sentinel names ${f.sentinelMaster.address}`)
    const why = promoted ? verdictOf(promoted, f, Number.MAX_SAFE_INTEGER) : 'no new master'
    const lag = promoted ? replicaLagBytes(promoted, f) : undefined
    if (why && !why.startsWith('its replica-priority')) problems.push(`${f.node}: ${why}`)
    else if (lag !== undefined && lag > maxLagBytes) problems.push(`${f.node}: ${lag} bytes behind`)
  }
  return problems
}
