import {findNode} from '../../inventory/load.js'
import {resolveSecret} from '../../inventory/secrets.js'
import {formatBytes, gatherClusterFacts, leaderTarget, type ClusterFacts} from '../../patroni/facts.js'
import {queryJson} from '../../patroni/sql.js'
import {patroniTopology, type RunOn} from '../../patroni/topology.js'
import {judgePgbouncer, pgbouncerSettings, probeThroughPgbouncer} from '../../patroni/pgbouncer.js'
import type {CheckContext, CheckDefinition, Finding} from '../types.js'

function runOn(ctx: CheckContext): RunOn {
  return (node, command, options) =>
    ctx.remote.run(findNode(ctx.loaded, node), command, {...options, timeoutMs: Math.min(options?.timeoutMs ?? ctx.timeoutMs, ctx.timeoutMs), step: 'patroni'})
}

/**
 * One healthy leader; every other member streaming from it (pg_stat_replication, not Patroni's
 * `running`) with replay lag under the inventory's limit.
 */
export function judgePatroni(env: string, facts: ClusterFacts, maxLagBytes: number): Finding[] {
  const findings: Finding[] = []
  const leaders = facts.members.filter((m) => m.role === 'leader')
  if (!facts.leader || !facts.leaderHealthy) {
    findings.push({
      target: 'leader',
      status: 'fail',
      detail: facts.leader ? `leader ${facts.leader} is not healthy (API or PostgreSQL down)` : 'no leader',
      hint: `Patroni elects one after its TTL; if none comes: ctl runbook patroni-failover ${env} --candidate <replica>`,
    })
  } else if (leaders.length > 1) {
    findings.push({
      target: 'leader',
      status: 'fail',
      detail: `${leaders.length} leaders: ${leaders.map((m) => m.name).join(', ')}`,
      hint: 'Split brain: check the DCS (etcd) health first.',
    })
  } else {
    findings.push({
      target: 'leader',
      status: facts.paused ? 'warn' : 'pass',
      detail: `${facts.leader}${facts.paused ? ', cluster PAUSED (no automatic failover)' : ''}`,
      hint: facts.paused ? 'Resume: patronictl resume, once maintenance is over.' : undefined,
    })
  }
  for (const m of facts.members.filter((x) => x.name !== facts.leader)) {
    if (!m.reachable)
      findings.push({
        target: m.name,
        status: 'fail',
        detail: `REST API not answering (state ${m.state})`,
        hint: `Is Patroni running on ${m.node}? Start it with the inventory's control command.`,
      })
    else if (!facts.leaderHealthy)
      findings.push({
        target: m.name,
        status: 'fail',
        detail: `${m.role}, ${m.state}: streaming unknown without a healthy leader`,
        hint: 'Fix the leader first.',
      })
    else if (facts.replicationError)
      findings.push({
        target: m.name,
        status: 'fail',
        detail: `pg_stat_replication unreadable on the leader: ${facts.replicationError}`,
        hint: 'Check databases.patroni user/password.',
      })
    else if (!m.streaming)
      findings.push({
        target: m.name,
        status: 'fail',
        detail: `${m.role}, ${m.state}, NOT streaming from ${facts.leader}`,
        hint: `Read the PostgreSQL log on ${m.node}; \`patronictl reinit\` rebuilds a replica that cannot catch up.`,
      })
    else if ((m.replayLagBytes ?? 0) > maxLagBytes)
      findings.push({
        target: m.name,
        status: 'fail',
        detail: `streaming, replay lag ${formatBytes(m.replayLagBytes)} over the limit ${formatBytes(maxLagBytes)}`,
        hint: `Is ${m.node} overloaded or its disk slow? The lag must come down before a release.`,
      })
    else findings.push({target: m.name, status: 'pass', detail: `streaming from ${facts.leader}, replay lag ${formatBytes(m.replayLagBytes)}`})
  }
  return findings
}

/** The leader's WAL archiving, as pg_stat_archiver has it (ages in seconds, by the server's clock). */
export interface ArchiverStats {
  mode: string
  lastArchivedWal: string | null
  archivedAgoSeconds: number | null
  lastFailedWal: string | null
  failedAgoSeconds: number | null
}

const ARCHIVER_SQL = `select json_build_object('mode', current_setting('archive_mode'), 'lastArchivedWal', last_archived_wal,
  'archivedAgoSeconds', round(extract(epoch from now() - last_archived_time)), 'lastFailedWal', last_failed_wal,
  'failedAgoSeconds', round(extract(epoch from now() - last_failed_time))) from pg_stat_archiver`

/** With pgBackRest in the inventory, the leader must archive, and its newest attempt must not have failed. */
export function judgeArchiving(env: string, leader: string, a: ArchiverStats): Finding {
  if (a.mode !== 'on')
    return {
      target: 'archiving',
      status: 'fail',
      detail: `WAL archiving is ${a.mode} on ${leader}: point-in-time restores stop at the last archived segment`,
      hint: `ctl runbook pgbackrest-setup ${env}`,
    }
  const failedLast = a.failedAgoSeconds !== null && (a.archivedAgoSeconds === null || a.failedAgoSeconds < a.archivedAgoSeconds)
  if (failedLast)
    return {
      target: 'archiving',
      status: 'fail',
      detail: `archiving fails on ${leader}: ${a.lastFailedWal} failed ${a.failedAgoSeconds} s ago, ${a.lastArchivedWal ? `last archived ${a.lastArchivedWal} ${a.archivedAgoSeconds} s ago` : 'nothing archived since the server started'}`,
      hint: `WAL piles up in pg_wal and the RPO grows: look at pgBackRest's log on the leader's node, then ctl runbook pgbackrest-setup ${env} (its check step).`,
    }
  return {
    target: 'archiving',
    status: 'pass',
    detail: a.lastArchivedWal
      ? `${leader} archives: last ${a.lastArchivedWal} ${a.archivedAgoSeconds} s ago`
      : `${leader} archives (nothing to archive since it started)`,
  }
}

export const patroniCheck: CheckDefinition = {
  id: 'patroni',
  title:
    'Patroni: one leader, replicas streaming with lag under the limit (WAL archiving working, with pgBackRest; PgBouncer reaching the leader, with pgbouncer)',
  needs: 'SSH and curl on each member (REST API), psql on the leader; databases.patroni',
  targets: (inventory) => (inventory.databases.patroni ? [{name: 'patroni'}] : []),
  skipReason: 'no databases.patroni in the inventory',
  async run(ctx) {
    const topology = patroniTopology(ctx.loaded)
    const section = ctx.inventory.databases.patroni!
    const password = section.password ? resolveSecret(ctx.loaded, section.password) : undefined
    const bouncer = pgbouncerSettings(ctx.loaded)
    // PgBouncer's probe needs no leader: it starts at once. The archiver's statistics start as soon as
    // the leader is known, beside its replication read.
    const probe = bouncer ? probeThroughPgbouncer(runOn(ctx), bouncer, 'pgbouncer') : undefined
    let archiver: Promise<ArchiverStats> | undefined
    const facts = await gatherClusterFacts(runOn(ctx), topology, password, (leader) => {
      if (!section.pgbackrest) return
      archiver = queryJson<ArchiverStats>(runOn(ctx), leaderTarget(topology, leader), password, ARCHIVER_SQL)
      // Awaited below only when the leader is still healthy; never an unhandled rejection.
      archiver.catch(() => undefined)
    })
    const findings = judgePatroni(ctx.inventory.name, facts, topology.maxLagBytes)
    if (!facts.leader || !facts.leaderHealthy) return findings
    const leader = topology.members.find((m) => m.name === facts.leader)!
    if (bouncer && probe) findings.push(judgePgbouncer(ctx.inventory.name, bouncer, {name: leader.name, address: leader.address}, await probe))
    const stats = archiver && (await archiver)
    if (!stats) return findings
    return [...findings, judgeArchiving(ctx.inventory.name, facts.leader!, stats)]
  },
}
