import {setTimeout as sleep} from 'node:timers/promises'
import {CtlError, ExitCode} from '../lib/errors.js'
import {gatherClusterFacts, leaderTarget, memberTarget, type ClusterFacts} from './facts.js'
import {restCall, type RestReply, type RestRequest} from './rest.js'
import {POSITION_SQL, queryJson, runSql, WRITE_PROBE_SQL, type PgTarget} from './sql.js'
import type {RemoteCommand} from '../lib/shell.js'
import {memberNamed, type PatroniMemberAddress, type PatroniTopology, type RunOn} from './topology.js'

/**
 * Acting on a Patroni cluster: the switchover and failover requests, the write probe, and the
 * waits that follow them. Every command goes through `runOn` (the runbook's journaled ctx.run).
 */

export interface WriteProbe {
  recovery: boolean
  xid: string
  server: string | null
  port: number | null
}

/** The body of POST /switchover (Patroni's field names). */
function switchoverBody(leader: string, candidate: string, scheduledAt?: string): Record<string, string> {
  return scheduledAt ? {leader, candidate, scheduled_at: scheduledAt} : {leader, candidate}
}

export function switchoverRequest(leader: string, candidate: string, scheduledAt?: string): RestRequest {
  // Patroni answers after the new leader holds the lock (up to ~loop_wait+10 s): allow a minute.
  return {method: 'POST', path: '/switchover', body: switchoverBody(leader, candidate, scheduledAt), timeoutSeconds: 60}
}

export function failoverRequest(candidate: string): RestRequest {
  return {method: 'POST', path: '/failover', body: {candidate}, timeoutSeconds: 60}
}

export type RequestOutcome =
  | {kind: 'done'; message: string}
  | {kind: 'scheduled'; message: string}
  | {kind: 'unknown'; message: string}
  | {kind: 'refused'; message: string; status: number}

/**
 * Reads Patroni's plain-text reply to /switchover or /failover: 200 done, 202 scheduled, 503 "status
 * unknown" (it may still happen: wait and look), anything else refused with Patroni's words.
 */
export function readRequestReply(reply: RestReply): RequestOutcome {
  const message = reply.text || reply.transportError || `HTTP ${reply.status}`
  if (reply.status === 200) return {kind: 'done', message}
  if (reply.status === 202) return {kind: 'scheduled', message}
  if (reply.status === 0 || (reply.status === 503 && /status unknown/i.test(reply.text))) return {kind: 'unknown', message}
  return {kind: 'refused', message, status: reply.status}
}

export class PatroniAccess {
  constructor(
    readonly topology: PatroniTopology,
    private readonly runOn: RunOn,
    private readonly password: string | undefined,
  ) {}

  member(name: string): PatroniMemberAddress {
    return memberNamed(this.topology, name)
  }

  facts(): Promise<ClusterFacts> {
    return gatherClusterFacts(this.runOn, this.topology, this.password)
  }

  request(member: string, request: RestRequest): Promise<RestReply> {
    return restCall(this.runOn, this.member(member), request)
  }

  /** A write probe on a member (fails on a replica: read-only). */
  probeWrite(member: string, step?: string): Promise<WriteProbe> {
    return queryJson<WriteProbe>(this.runOn, memberTarget(this.topology, this.member(member)), this.password, WRITE_PROBE_SQL, {step, timeoutMs: 15_000})
  }

  /** The same probe through the write endpoint (HAProxy/PgBouncer), run from `fromNode`. */
  probeEndpoint(fromNode: string, endpoint: {host: string; port: number}, step?: string): Promise<WriteProbe> {
    const target: PgTarget = {node: fromNode, host: endpoint.host, port: endpoint.port, user: this.topology.user, database: this.topology.database}
    return queryJson<WriteProbe>(this.runOn, target, this.password, WRITE_PROBE_SQL, {step, timeoutMs: 15_000})
  }

  /** The WAL position a dump taken now from `member` reflects. */
  position(member: string): Promise<{recovery: boolean; lsn: string}> {
    return queryJson(this.runOn, memberTarget(this.topology, this.member(member)), this.password, POSITION_SQL)
  }

  /** Runs SQL on a target (psql; password on stdin); returns its output. */
  sql(target: PgTarget, sql: string, step?: string): Promise<string> {
    return runSql(this.runOn, target, this.password, sql, {step})
  }

  query<T>(target: PgTarget, sql: string, step?: string): Promise<T> {
    return queryJson<T>(this.runOn, target, this.password, sql, {step})
  }

  /** Runs a script built with afterPasswordFromStdin (pg_dump, pg_restore): the password is its first stdin line. */
  runWithPassword(node: string, command: RemoteCommand, timeoutMs: number): Promise<{code: number; stdout: string; stderr: string}> {
    return this.runOn(node, command, {stdin: `${this.password ?? ''}\n`, timeoutMs})
  }

  leaderTarget(leader: string, database?: string): PgTarget {
    return leaderTarget(this.topology, this.member(leader), database)
  }

  /**
   * Waits until `candidate` accepts a write (probing it directly, so the time is not spent reading
   * the whole cluster), then checks that the DCS names it the leader. Returns the probe and when it
   * first succeeded.
   */
  async waitForWritableLeader(
    candidate: string,
    timeoutMs: number,
    onProgress: (text: string) => void,
    step?: string,
  ): Promise<{probe: WriteProbe; at: number; facts: ClusterFacts}> {
    const deadline = Date.now() + timeoutMs
    let last: string
    for (;;) {
      try {
        const probe = await this.probeWrite(candidate, step)
        if (!probe.recovery) {
          const at = Date.now()
          const facts = await this.facts()
          if (facts.leader === candidate) return {probe, at, facts}
          last = `${candidate} accepts writes but the DCS names ${facts.leader ?? 'no leader'}`
        } else {
          last = `${candidate} is still a replica`
        }
      } catch (error) {
        last = `${candidate} does not accept writes yet: ${(error as Error).message.split('\n')[0]}`
      }
      onProgress(last)
      if (Date.now() >= deadline) {
        throw new CtlError(`${candidate} did not become a writable leader within ${Math.round(timeoutMs / 1000)} s (${last})`, {
          host: this.member(candidate).node,
          step,
          exitCode: ExitCode.failed,
          code: 'patroni.not-writable',
          hint: `Look at the cluster (ctl runbook patroni-switchover <env> --dry-run) and at Patroni's log on ${this.member(candidate).node}.`,
        })
      }
      await sleep(250)
    }
  }

  /** Waits until each of `members` streams from the leader (pg_stat_replication state streaming). */
  async waitForStreaming(members: string[], timeoutMs: number, onProgress: (text: string) => void, step?: string): Promise<ClusterFacts> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const facts = await this.facts()
      const missing = members.filter((name) => !facts.members.find((m) => m.name === name)?.streaming)
      if (facts.leaderHealthy && missing.length === 0) return facts
      const text = facts.leaderHealthy ? `not streaming yet: ${missing.join(', ')}` : `leader ${facts.leader ?? 'none'} not healthy`
      onProgress(text)
      if (Date.now() >= deadline) {
        const first = missing[0] ? this.member(missing[0]) : undefined
        throw new CtlError(`${missing.join(', ')} did not stream from ${facts.leader ?? 'the leader'} within ${Math.round(timeoutMs / 1000)} s`, {
          host: first?.node,
          step,
          code: 'patroni.not-streaming',
          hint: `Look at Patroni's log on ${first?.node ?? 'the member'}; a member whose timeline diverged may need \`patronictl reinit\`.`,
        })
      }
      await sleep(1000)
    }
  }
}
