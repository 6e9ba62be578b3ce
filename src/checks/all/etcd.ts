import {clientUrl, etcdctl} from '../../etcd/commands.js'
import {parseEtcdStatuses} from '../../etcd/status.js'
import {lastLines} from '../../lib/output.js'
import {shellCommand} from '../../lib/shell.js'
import {outputTail, requireTool} from '../remote-errors.js'
import type {CheckDefinition, Finding} from '../types.js'

/**
 * One member of etcd, asked on its node: its health, then every member's status as it sees them
 * (`endpoint status --cluster`: the leader each names, database size), then the cluster's alarms.
 * A member that other members cannot reach leaves the status of the others intact (exit 0 after health).
 * The cluster-wide status waits at most 1 s to dial and 2 s to hear from each member (LAN answers
 * take milliseconds): a host cut off the network costs that, not 5 s, on every `ctl status`.
 */
export function etcdProbeCommand(url: string): {script: string} {
  return {
    script: [
      'command -v etcdctl >/dev/null || exit 127',
      `${shellCommand(etcdctl([url], ['endpoint', 'health'], '5s'))} 2>&1 || exit 1`,
      `echo '== status'; ${shellCommand(etcdctl([url], ['endpoint', 'status', '--cluster', '-w', 'json'], '2s', '1s'))} 2>/dev/null`,
      `echo '== alarms'; ${shellCommand(etcdctl([url], ['alarm', 'list'], '5s'))} 2>&1`,
      'exit 0',
    ].join('\n'),
  }
}

const WARN_RATIO = 0.8
const FAIL_RATIO = 0.95
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/** The probe's output: health line, `== status` JSON of every member, `== alarms` lines. */
export function judgeEtcdMember(code: number, output: string, url: string, members: number, quotaBytes: number): Finding {
  if (code !== 0 || !/is healthy/.test(output)) {
    return {
      status: 'fail',
      detail: `unhealthy: ${lastLines(output, 2, ' ').slice(0, 200)}`,
      hint: 'Is etcd running on this node, and do a majority of members answer? Patroni stops promoting without its DCS. A member whose data is lost: ctl runbook etcd-member-replace <env>.',
    }
  }
  const statusText = output.slice(output.indexOf('== status') + 9, output.includes('== alarms') ? output.indexOf('== alarms') : undefined)
  const alarms = output.includes('== alarms')
    ? output
        .slice(output.indexOf('== alarms') + 9)
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /alarm:/.test(l))
    : []
  const statuses = parseEtcdStatuses(statusText)
  const self = statuses.find((s) => s.endpoint === url)
  if (!self) return {status: 'warn', detail: 'healthy, but its status was unreadable', hint: 'Run `etcdctl endpoint status` on the node.'}
  if (self.leader === '0')
    return {status: 'fail', detail: `healthy answer but no leader (raft term ${self.raftTerm})`, hint: 'The cluster has no quorum: bring members back.'}
  const leaders = new Set(statuses.map((s) => s.leader).filter((l) => l !== '0'))
  if (leaders.size > 1)
    return {
      status: 'fail',
      detail: `members name different leaders (${statuses.map((s) => `${s.endpoint}: ${s.leader}`).join(', ')})`,
      hint: 'A partitioned cluster: look at the network between the members.',
    }
  if (alarms.length > 0)
    return {
      status: 'fail',
      detail: `alarm: ${alarms.join('; ')}`,
      hint: 'NOSPACE: the database reached its quota and etcd takes no writes. Compact, defragment (etcdctl defrag), then `etcdctl alarm disarm`.',
    }
  const base = `healthy, etcd ${self.version}, raft term ${self.raftTerm}${self.leader === self.memberId ? ', leader' : ''}, ${statuses.length} of ${members} members answer, db ${mib(self.dbSize)} of ${mib(quotaBytes)}`
  if (self.dbSize >= quotaBytes * FAIL_RATIO)
    return {status: 'fail', detail: base, hint: 'The database is almost at its quota (then NOSPACE: no writes). Compact and defragment now.'}
  if (self.dbSize >= quotaBytes * WARN_RATIO)
    return {status: 'warn', detail: base, hint: 'The database is above 80 % of its quota: compact and defragment (etcdctl defrag).'}
  return {status: 'pass', detail: base}
}

export const etcdCheck: CheckDefinition = {
  id: 'etcd',
  title: 'etcd health',
  needs: 'SSH, etcdctl on each member; databases.etcd',
  targets: (inventory) => (inventory.databases.etcd?.members ?? []).map((m) => ({name: m.name, node: inventory.nodes.find((n) => n.name === m.node)})),
  skipReason: 'no databases.etcd in the inventory',
  async run(ctx, target) {
    const cluster = ctx.inventory.databases.etcd!
    const member = cluster.members.find((m) => m.name === target.name)!
    const node = target.node!
    const url = clientUrl(member, node)
    const result = requireTool(await ctx.remote.run(node, etcdProbeCommand(url), {timeoutMs: ctx.timeoutMs, step: 'etcdctl'}), 'etcdctl')
    return judgeEtcdMember(
      result.code,
      `${result.stdout}\n${result.code === 0 ? '' : outputTail(result)}`,
      url,
      cluster.members.length,
      cluster.quotaBackendBytes,
    )
  },
}
