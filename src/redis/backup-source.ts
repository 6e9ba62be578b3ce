import type {RedisMemberFacts} from './facts.js'
import {replicaLagBytes, sentinelView} from './judge.js'

export interface RedisBackupSource {
  member: RedisMemberFacts
  /** Why this one, for the runbook's report. */
  reason: string
}

/**
 * Where redis-backup reads its snapshot: the connected replica of the sentinels' master that lags
 * least (the master never forks for a backup), else the master itself; undefined when no member
 * answers as either. Pure.
 */
export function chooseRedisBackupSource(facts: readonly RedisMemberFacts[]): RedisBackupSource | undefined {
  const view = sentinelView(facts)
  const answering = facts.filter((f) => !f.error && f.role)
  const master =
    answering.find((f) => f.role === 'master' && view.master && f.address === view.master.address && f.port === view.master.port) ??
    answering.find((f) => f.role === 'master')
  const replicas = answering
    .filter((f) => f.role === 'slave' && f.linkUp && (!master || (f.masterHost === master.address && f.masterPort === master.port)))
    .map((f) => ({f, lag: replicaLagBytes(master, f) ?? Number.MAX_SAFE_INTEGER}))
    .sort((a, b) => a.lag - b.lag || a.f.node.localeCompare(b.f.node))
  const best = replicas[0]
  if (best)
    return {
      member: best.f,
      reason: `replica ${best.f.node}, linked to the master${best.lag === Number.MAX_SAFE_INTEGER ? '' : `, ${best.lag} bytes behind`}: the master does not fork for it`,
    }
  if (master) return {member: master, reason: `no replica is connected: the master ${master.node} forks for this snapshot`}
  return undefined
}
