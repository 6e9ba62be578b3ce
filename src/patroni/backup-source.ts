import type {ClusterFacts, MemberFacts} from './facts.js'
import {isRunningState} from './facts.js'

/**
 * Which member pg_dump reads from: a streaming replica (least replay lag, within the inventory's
 * maxLagBytes) when the inventory allows it, so the leader carries no dump load; else the leader.
 */
export type BackupSource = {ok: true; member: string; role: 'leader' | 'replica'; why: string} | {ok: false; reason: string; hint: string}

export function chooseBackupSource(facts: ClusterFacts, options: {fromReplica: boolean; maxLagBytes: number}): BackupSource {
  const leaderUp = facts.leaderHealthy && facts.leader !== undefined
  if (options.fromReplica) {
    const replicas = facts.members
      .filter(
        (m): m is MemberFacts & {replayLagBytes: number} =>
          m.name !== facts.leader &&
          m.reachable &&
          isRunningState(m.state) &&
          m.streaming &&
          m.replayLagBytes !== null &&
          m.replayLagBytes <= options.maxLagBytes,
      )
      .sort((a, b) => a.replayLagBytes - b.replayLagBytes)
    const best = replicas[0]
    if (best) return {ok: true, member: best.name, role: 'replica', why: `streaming replica with the least replay lag (${best.replayLagBytes} B)`}
    if (leaderUp) return {ok: true, member: facts.leader!, role: 'leader', why: 'no replica streams within maxLagBytes: dumping from the leader'}
  } else if (leaderUp) {
    return {ok: true, member: facts.leader!, role: 'leader', why: 'backupFromReplica is false in the inventory'}
  }
  return {
    ok: false,
    reason: 'no healthy member to dump from (no healthy leader, no streaming replica)',
    hint: 'Bring the cluster back first (ctl runbook patroni-failover), then back up.',
  }
}
