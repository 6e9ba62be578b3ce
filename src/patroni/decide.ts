import type {ClusterFacts, MemberFacts} from './facts.js'
import {formatBytes, isRunningState} from './facts.js'

/**
 * The decisions of the Patroni runbooks, as pure functions over the facts: which replicas may take
 * over in a switchover, whether a switchover or a failover may go ahead, and what a failover may lose.
 */

export interface CandidateVerdict {
  member: string
  eligible: boolean
  /** Why not, in the operator's words. */
  reason?: string
  replayLagBytes: number | null
}

/** Judges one replica as a switchover candidate: streaming (pg_stat_replication), lag within the limit. */
function judgeCandidate(facts: ClusterFacts, member: MemberFacts, maxLagBytes: number): CandidateVerdict {
  const verdict = (reason?: string): CandidateVerdict => ({member: member.name, eligible: !reason, reason, replayLagBytes: member.replayLagBytes})
  if (member.name === facts.leader) return verdict('it is the leader')
  if (!member.reachable) return verdict(`its Patroni API does not answer (state ${member.state})`)
  if (!isRunningState(member.state)) return verdict(`it is ${member.state}, not running`)
  if (member.noFailover) return verdict('it is tagged nofailover')
  if (!member.streaming) {
    const row = facts.replication.find((r) => r.applicationName === member.name)
    return verdict(row ? `it is not streaming (pg_stat_replication state: ${row.state})` : "it is not streaming (not in the leader's pg_stat_replication)")
  }
  if (member.replayLagBytes === null) return verdict('its replay lag is unknown')
  if (member.replayLagBytes > maxLagBytes)
    return verdict(`it lags ${formatBytes(member.replayLagBytes)}, more than the ${formatBytes(maxLagBytes)} the inventory allows (maxLagBytes)`)
  return verdict()
}

export function judgeCandidates(facts: ClusterFacts, maxLagBytes: number): CandidateVerdict[] {
  return facts.members.filter((m) => m.name !== facts.leader).map((m) => judgeCandidate(facts, m, maxLagBytes))
}

type Refusal = {ok: false; code: string; reason: string; hint: string}

export type SwitchoverDecision = {ok: true; leader: string; candidate: string} | Refusal

/** May a switchover from the current leader to `candidate` go ahead? (candidate undefined: only the cluster is judged) */
export function decideSwitchover(
  facts: ClusterFacts,
  candidate: string | undefined,
  maxLagBytes: number,
): SwitchoverDecision | {ok: 'choose'; leader: string; choices: CandidateVerdict[]} {
  if (facts.paused) {
    return {
      ok: false,
      code: 'patroni.paused',
      reason: 'the cluster is paused (maintenance mode): Patroni would not manage the switchover',
      hint: 'Resume it first (patronictl resume), or finish the maintenance.',
    }
  }
  if (!facts.leader) {
    return {ok: false, code: 'patroni.no-leader', reason: 'the cluster has no leader', hint: 'Use `ctl runbook patroni-failover <env> --candidate <member>`.'}
  }
  if (!facts.leaderHealthy) {
    return {
      ok: false,
      code: 'patroni.leader-down',
      reason: `the leader ${facts.leader} is not healthy (its API or PostgreSQL is down)`,
      hint: 'A switchover needs a running leader: use `ctl runbook patroni-failover <env> --candidate <member>`.',
    }
  }
  if (facts.replicationError) {
    return {
      ok: false,
      code: 'patroni.replication-unknown',
      reason: `pg_stat_replication on ${facts.leader} could not be read: ${facts.replicationError}`,
      hint: 'Streaming must be checked before a switchover: fix the SQL access (user/password in databases.patroni).',
    }
  }
  if (facts.scheduledSwitchover) {
    const s = facts.scheduledSwitchover
    return {
      ok: false,
      code: 'patroni.already-scheduled',
      reason: `a switchover is already scheduled at ${s.at} (${s.from ?? '?'} → ${s.to ?? 'any'})`,
      hint: 'Cancel it first (patronictl flush <scope> switchover), or let it run.',
    }
  }
  const verdicts = judgeCandidates(facts, maxLagBytes)
  if (candidate === undefined) return {ok: 'choose', leader: facts.leader, choices: verdicts}
  if (candidate === facts.leader) {
    return {
      ok: false,
      code: 'patroni.candidate-is-leader',
      reason: `${candidate} is already the leader`,
      hint: `Pick a replica: ${verdicts.map((v) => v.member).join(', ')}`,
    }
  }
  const verdict = verdicts.find((v) => v.member === candidate)
  if (!verdict) {
    return {ok: false, code: 'patroni.unknown-member', reason: `no member named ${candidate}`, hint: `Members: ${facts.members.map((m) => m.name).join(', ')}`}
  }
  if (!verdict.eligible) {
    const others = verdicts.filter((v) => v.eligible).map((v) => v.member)
    return {
      ok: false,
      code: 'patroni.candidate-refused',
      reason: `${candidate} cannot take over: ${verdict.reason}`,
      hint: others.length ? `Healthy replicas: ${others.join(', ')}` : 'No replica is healthy now: fix replication first.',
    }
  }
  return {ok: true, leader: facts.leader, candidate}
}

export type FailoverDecision = {ok: true; candidate: string; deadLeader?: string; mayLoseBytes: number | null; lessLagging: string[]} | Refusal

/** May `candidate` be promoted by a failover? Only when no healthy leader exists. */
export function decideFailover(facts: ClusterFacts, candidate: string): FailoverDecision {
  if (facts.leaderHealthy && facts.leader) {
    return {
      ok: false,
      code: 'patroni.leader-healthy',
      reason: `${facts.leader} is a healthy leader: a failover is not needed`,
      hint: `To move the leader, use \`ctl runbook patroni-switchover <env> --candidate ${candidate}\`.`,
    }
  }
  const member = facts.members.find((m) => m.name === candidate)
  if (!member)
    return {ok: false, code: 'patroni.unknown-member', reason: `no member named ${candidate}`, hint: `Members: ${facts.members.map((m) => m.name).join(', ')}`}
  if (!member.reachable)
    return {
      ok: false,
      code: 'patroni.candidate-down',
      reason: `${candidate}'s Patroni API does not answer`,
      hint: 'Pick a member whose Patroni runs (see the table above).',
    }
  if (!isRunningState(member.state))
    return {ok: false, code: 'patroni.candidate-down', reason: `${candidate} is ${member.state}: its PostgreSQL does not run`, hint: 'Pick a running replica.'}
  if (member.noFailover) return {ok: false, code: 'patroni.candidate-nofailover', reason: `${candidate} is tagged nofailover`, hint: 'Pick another replica.'}
  const alive = facts.members.filter((m) => m.name !== candidate && m.name !== facts.leader && m.reachable && isRunningState(m.state))
  const lessLagging = member.lagBytes === null ? [] : alive.filter((m) => m.lagBytes !== null && m.lagBytes < member.lagBytes!).map((m) => m.name)
  return {ok: true, candidate, deadLeader: facts.leader, mayLoseBytes: member.lagBytes, lessLagging}
}

/** The sentence shown before a failover: what may be lost. */
export function failoverRiskText(decision: Extract<FailoverDecision, {ok: true}>): string {
  const loss =
    decision.mayLoseBytes === null
      ? 'an unknown amount of WAL (its lag is unknown)'
      : decision.mayLoseBytes === 0
        ? 'no WAL that Patroni knows of (lag 0 B)'
        : `up to ${formatBytes(decision.mayLoseBytes)} of WAL (its lag)`
  const from = decision.deadLeader ? ` that reached ${decision.deadLeader} but not ${decision.candidate}` : ''
  const better = decision.lessLagging.length ? ` Note: ${decision.lessLagging.join(', ')} lag(s) less.` : ''
  return `Promote ${decision.candidate}: transactions${from} are lost, ${loss}.${better}`
}
