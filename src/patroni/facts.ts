import type {PatroniMemberAddress, PatroniTopology, RunOn} from './topology.js'
import {restCall} from './rest.js'
import {queryJson, REPLICATION_SQL, type PgTarget} from './sql.js'

/**
 * What ctl knows about a Patroni cluster at one moment: the DCS view (/cluster), each member's own
 * view (/patroni), and the leader's pg_stat_replication. Parsing is pure (unit-tested on Patroni's
 * replies); `gatherClusterFacts` does the calls.
 */

export type MemberRole = 'leader' | 'replica' | 'standby_leader' | 'unknown'

export interface ClusterMember {
  name: string
  role: MemberRole
  /** Patroni's state: running, streaming, stopped, starting, crashed, ... */
  state: string
  host?: string
  port?: number
  timeline?: number
  /** Bytes behind the leader's last known position, as Patroni reports it; null when unknown. */
  lagBytes: number | null
  noFailover: boolean
}

export interface ClusterView {
  members: ClusterMember[]
  paused: boolean
  scheduledSwitchover?: {at: string; from?: string; to?: string}
}

/** A member's own answer on /patroni. */
export interface MemberStatus {
  reachable: boolean
  role?: 'leader' | 'replica' | 'standby_leader' | 'unknown'
  state?: string
  timeline?: number
  /** Received and replayed WAL positions of a replica (bytes), or the leader's position. */
  receivedLsn?: number
  replayedLsn?: number
  location?: number
  replayPaused?: boolean
  paused?: boolean
  /** A setting changed that takes effect only after a restart (e.g. archive_mode). */
  pendingRestart?: boolean
  error?: string
}

export interface ReplicationRow {
  applicationName: string
  state: string
  clientAddr?: string
  syncState?: string
  flushLagBytes: number | null
  replayLagBytes: number | null
}

export interface MemberFacts extends ClusterMember {
  node: string
  address: string
  /** Did its REST API answer? */
  reachable: boolean
  /** Streaming from the leader, as the leader's pg_stat_replication shows (never inferred from `running`). */
  streaming: boolean
  /** Replay lag in bytes from pg_stat_replication, when it streams. */
  replayLagBytes: number | null
  replayPaused?: boolean
}

export interface ClusterFacts {
  scope: string
  paused: boolean
  scheduledSwitchover?: ClusterView['scheduledSwitchover']
  /** The leader named in the DCS (may be dead until its key expires). */
  leader?: string
  /** The leader's API answers, it says it is the leader and PostgreSQL runs. */
  leaderHealthy: boolean
  members: MemberFacts[]
  /** The leader's pg_stat_replication ([] when the leader could not be asked). */
  replication: ReplicationRow[]
  /** Why pg_stat_replication could not be read, when it could not. */
  replicationError?: string
  /** Which member answered /cluster. */
  source?: string
}

/** Patroni says master (3.0) or primary (3.1+) on /patroni, leader on /cluster: one word here. */
export function normalizeRole(role: unknown): MemberRole {
  switch (role) {
    case 'leader':
    case 'master':
    case 'primary':
      return 'leader'
    case 'standby_leader':
      return 'standby_leader'
    case 'replica':
    case 'sync_standby':
    case 'quorum_standby':
      return 'replica'
    default:
      return 'unknown'
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

export function parseClusterView(json: unknown): ClusterView {
  const data = (json ?? {}) as Record<string, unknown>
  const members = Array.isArray(data.members) ? (data.members as Record<string, unknown>[]) : []
  const scheduled = data.scheduled_switchover as Record<string, unknown> | undefined
  return {
    paused: data.pause === true,
    scheduledSwitchover: scheduled ? {at: String(scheduled.at), from: scheduled.from as string | undefined, to: scheduled.to as string | undefined} : undefined,
    members: members.map((m) => ({
      name: String(m.name),
      role: normalizeRole(m.role),
      state: String(m.state ?? 'unknown'),
      host: m.host as string | undefined,
      port: num(m.port),
      timeline: num(m.timeline),
      // "unknown" (a string) when the member's position is not known.
      lagBytes: num(m.lag) ?? (normalizeRole(m.role) === 'leader' ? 0 : null),
      noFailover: (m.tags as Record<string, unknown> | undefined)?.nofailover === true,
    })),
  }
}

export function parseMemberStatus(json: unknown): MemberStatus {
  const data = (json ?? {}) as Record<string, unknown>
  const xlog = (data.xlog ?? {}) as Record<string, unknown>
  return {
    reachable: true,
    role: normalizeRole(data.role),
    state: data.state as string | undefined,
    timeline: num(data.timeline),
    receivedLsn: num(xlog.received_location),
    replayedLsn: num(xlog.replayed_location),
    location: num(xlog.location),
    replayPaused: xlog.paused === true,
    paused: data.pause === true,
    pendingRestart: data.pending_restart === true,
  }
}

export function parseReplicationRows(json: unknown): ReplicationRow[] {
  if (!Array.isArray(json)) return []
  return (json as Record<string, unknown>[]).map((r) => ({
    applicationName: String(r.application_name ?? ''),
    state: String(r.state ?? ''),
    clientAddr: r.client_addr as string | undefined,
    syncState: r.sync_state as string | undefined,
    flushLagBytes: num(r.flush_lag_bytes) ?? null,
    replayLagBytes: num(r.replay_lag_bytes) ?? null,
  }))
}

/** Is this Patroni state one where PostgreSQL runs? (`streaming` from Patroni 3.0.? on, `running` before.) */
export function isRunningState(state: string | undefined): boolean {
  return state === 'running' || state === 'streaming'
}

/** Joins the three views into one fact sheet (pure). */
export function combineFacts(
  topology: PatroniTopology,
  view: ClusterView | undefined,
  statuses: Map<string, MemberStatus>,
  replication: ReplicationRow[] | undefined,
  extra: {replicationError?: string; source?: string} = {},
): ClusterFacts {
  const leaderMember = view?.members.find((m) => m.role === 'leader' || m.role === 'standby_leader')
  const leaderStatus = leaderMember ? statuses.get(leaderMember.name) : undefined
  const leaderHealthy = Boolean(leaderMember && leaderStatus?.reachable && leaderStatus.role === 'leader' && isRunningState(leaderStatus.state))
  const rows = replication ?? []
  const members: MemberFacts[] = topology.members.map((address) => {
    const inView = view?.members.find((m) => m.name === address.name)
    const status = statuses.get(address.name) ?? {reachable: false}
    const row = rows.find((r) => r.applicationName === address.name)
    return {
      name: address.name,
      node: address.node,
      address: address.address,
      // A member missing from /cluster has no key in the DCS: Patroni is stopped there.
      role: inView?.role ?? status.role ?? 'unknown',
      // The member's own answer is live; the DCS copy may be up to a ttl old.
      state: (status.reachable ? status.state : undefined) ?? inView?.state ?? 'stopped',
      host: inView?.host,
      port: inView?.port,
      timeline: inView?.timeline ?? status.timeline,
      lagBytes: inView ? inView.lagBytes : null,
      noFailover: inView?.noFailover ?? false,
      reachable: status.reachable,
      streaming: row?.state === 'streaming',
      replayLagBytes: row?.state === 'streaming' ? row.replayLagBytes : null,
      replayPaused: status.replayPaused,
    }
  })
  return {
    scope: topology.scope,
    paused: view?.paused ?? [...statuses.values()].some((s) => s.paused),
    scheduledSwitchover: view?.scheduledSwitchover,
    leader: leaderMember?.name,
    leaderHealthy,
    members,
    replication: rows,
    replicationError: extra.replicationError,
    source: extra.source,
  }
}

export function leaderTarget(topology: PatroniTopology, leader: PatroniMemberAddress, database = topology.database): PgTarget {
  return {node: leader.node, host: leader.address, port: leader.pgPort, user: topology.user, database}
}

export function memberTarget(topology: PatroniTopology, member: PatroniMemberAddress, database = topology.database): PgTarget {
  return {node: member.node, host: member.address, port: member.pgPort, user: topology.user, database}
}

/** Asks every member (/patroni), the first that answers (/cluster), and the healthy leader (pg_stat_replication). */
/**
 * `onLeader` is called once a healthy leader is known, before its replication is read: a caller with
 * more to ask of the leader asks it then, alongside (one round trip less).
 */
export async function gatherClusterFacts(
  runOn: RunOn,
  topology: PatroniTopology,
  password: string | undefined,
  onLeader?: (leader: PatroniTopology['members'][number]) => void,
): Promise<ClusterFacts> {
  const statuses = new Map<string, MemberStatus>()
  // The cluster view is asked of the first member while the members' own states are read (one
  // round trip, not two); only when it does not answer are the others asked, one by one.
  const first = topology.members[0]
  const firstView = first ? restCall(runOn, first, {method: 'GET', path: '/cluster', timeoutSeconds: 5}) : undefined
  await Promise.all(
    topology.members.map(async (m) => {
      const reply = await restCall(runOn, m, {method: 'GET', path: '/patroni', timeoutSeconds: 5})
      // /patroni answers 200 when PostgreSQL runs and 503 when it does not: both carry the JSON.
      statuses.set(
        m.name,
        reply.status === 0 || !reply.json ? {reachable: false, error: reply.transportError ?? `HTTP ${reply.status}`} : parseMemberStatus(reply.json),
      )
    }),
  )
  let view: ClusterView | undefined
  let source: string | undefined
  for (const m of topology.members) {
    if (!statuses.get(m.name)?.reachable) continue
    const reply = m === first && firstView ? await firstView : await restCall(runOn, m, {method: 'GET', path: '/cluster', timeoutSeconds: 5})
    if (reply.status === 200 && reply.json) {
      view = parseClusterView(reply.json)
      source = m.name
      break
    }
  }
  let replication: ReplicationRow[] | undefined
  let replicationError: string | undefined
  const partial = combineFacts(topology, view, statuses, undefined)
  const leader = topology.members.find((m) => m.name === partial.leader)
  if (leader && partial.leaderHealthy) {
    onLeader?.(leader)
    try {
      replication = parseReplicationRows(await queryJson(runOn, leaderTarget(topology, leader), password, REPLICATION_SQL))
    } catch (error) {
      replicationError = (error as Error).message
    }
  }
  return combineFacts(topology, view, statuses, replication, {replicationError, source})
}

const formatBytes = (n: number | null): string =>
  n === null ? 'unknown' : n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`
export {formatBytes}

/** The members table shown to the operator. */
export function factsRows(facts: ClusterFacts): string[][] {
  return facts.members.map((m) => [
    m.name,
    m.node,
    m.role + (m.name === facts.leader && !facts.leaderHealthy ? ' (DOWN)' : ''),
    m.reachable ? m.state : `${m.state} (API not answering)`,
    m.timeline === undefined ? '-' : String(m.timeline),
    m.role === 'leader' ? '-' : formatBytes(m.lagBytes),
    m.role === 'leader' ? '-' : m.streaming ? `streaming, replay lag ${formatBytes(m.replayLagBytes)}` : 'NOT streaming',
  ])
}

export const FACTS_HEADER = ['member', 'node', 'role', 'state', 'TL', 'lag (Patroni)', 'pg_stat_replication']
