import {findNode} from '../../inventory/load.js'
import {resolveSecret} from '../../inventory/secrets.js'
import {formatBytes, gatherClusterFacts, type ClusterFacts} from '../../patroni/facts.js'
import {patroniTopology, type RunOn} from '../../patroni/topology.js'
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

export const patroniCheck: CheckDefinition = {
  id: 'patroni',
  title: 'Patroni: one leader, replicas streaming with lag under the limit',
  needs: 'SSH and curl on each member (REST API), psql on the leader; databases.patroni',
  targets: (inventory) => (inventory.databases.patroni ? [{name: 'patroni'}] : []),
  skipReason: 'no databases.patroni in the inventory',
  async run(ctx) {
    const topology = patroniTopology(ctx.loaded)
    const section = ctx.inventory.databases.patroni!
    const password = section.password ? resolveSecret(ctx.loaded, section.password) : undefined
    return judgePatroni(ctx.inventory.name, await gatherClusterFacts(runOn(ctx), topology, password), topology.maxLagBytes)
  },
}
