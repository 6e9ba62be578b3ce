import {andThen} from '../../lib/shell.js'
import {outputTail, requireTool} from '../remote-errors.js'
import type {CheckDefinition, Finding} from '../types.js'
import {lastLines} from '../../lib/output.js'

/** `etcdctl endpoint health` then `endpoint status -w json`, against the member's own client URL. */
export function etcdProbeCommand(clientUrl: string): {script: string} {
  const etcdctl = (...args: string[]) => ['env', 'ETCDCTL_API=3', 'etcdctl', `--endpoints=${clientUrl}`, '--dial-timeout=3s', '--command-timeout=5s', ...args]
  const health = andThen(etcdctl('endpoint', 'health')).script
  return {script: `command -v etcdctl >/dev/null || exit 127; ${health} 2>&1 && ${andThen(etcdctl('endpoint', 'status', '-w', 'json')).script}`}
}

interface EndpointStatus {
  version?: string
  leader?: number | string
  raftTerm?: number
  header?: {member_id?: number | string}
}

/** Health line, then the status JSON of the one endpoint. */
export function judgeEtcdMember(code: number, output: string): Finding {
  if (code !== 0 || !/is healthy/.test(output)) {
    return {
      status: 'fail',
      detail: `unhealthy: ${lastLines(output, 2, ' ').slice(0, 200)}`,
      hint: 'Is etcd running on this node, and do a majority of members answer? Patroni stops promoting without its DCS.',
    }
  }
  const json = output.slice(output.indexOf('['))
  let status: EndpointStatus | undefined
  try {
    status = (JSON.parse(json) as {Status?: EndpointStatus}[])[0]?.Status
  } catch {
    status = undefined
  }
  if (!status) return {status: 'warn', detail: 'healthy, but its status was unreadable', hint: 'Run `etcdctl endpoint status` on the node.'}
  // etcd prints 64-bit ids as JSON numbers; compare their text, not lossy doubles.
  const leader = String(status.leader ?? '0')
  if (leader === '0')
    return {status: 'fail', detail: `healthy answer but no leader (raft term ${status.raftTerm})`, hint: 'The cluster has no quorum: bring members back.'}
  const self = String(status.header?.member_id ?? '')
  return {status: 'pass', detail: `healthy, etcd ${status.version}, raft term ${status.raftTerm}${leader === self ? ', leader' : ''}`}
}

export const etcdCheck: CheckDefinition = {
  id: 'etcd',
  title: 'etcd health',
  needs: 'SSH, etcdctl on each member; databases.etcd',
  targets: (inventory) => (inventory.databases.etcd?.members ?? []).map((m) => ({name: m.name, node: inventory.nodes.find((n) => n.name === m.node)})),
  skipReason: 'no databases.etcd in the inventory',
  async run(ctx, target) {
    const member = ctx.inventory.databases.etcd!.members.find((m) => m.name === target.name)!
    const node = target.node!
    const host = node.address.includes(':') ? `[${node.address}]` : node.address
    const result = requireTool(
      await ctx.remote.run(node, etcdProbeCommand(`http://${host}:${member.clientPort}`), {timeoutMs: ctx.timeoutMs, step: 'etcdctl'}),
      'etcdctl',
    )
    return judgeEtcdMember(result.code, `${result.stdout}\n${result.code === 0 ? '' : outputTail(result)}`)
  },
}
