import type {RedisCluster} from '../inventory/schema/databases.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import {quote, type RemoteCommand} from '../lib/shell.js'

/**
 * What ctl reads of a Redis member and its sentinel, in one command on the member's node:
 * `INFO replication` of the redis-server, then the master the sentinel names, then its quorum check.
 * redis-cli reads the password from its environment (REDISCLI_AUTH), set from stdin: never argv. Pure.
 */

interface RedisReplicaLink {
  address: string
  port: number
  state: string
  offset: number
}

export interface RedisMemberFacts {
  node: string
  address: string
  port: number
  /** Undefined when redis-server did not answer. */
  role?: 'master' | 'slave'
  /** A replica's master and its link. */
  masterHost?: string
  masterPort?: number
  linkUp?: boolean
  /** A replica whose link is down: seconds since it went down (what it has is that old). */
  linkDownSeconds?: number
  /** master_repl_offset (a master) or slave_repl_offset (a replica). */
  offset?: number
  /** A master's connected replicas. */
  replicas: RedisReplicaLink[]
  /** replica-priority (0: never promoted). */
  priority?: number
  /** The master this member's sentinel names; undefined when it did not answer. */
  sentinelMaster?: {address: string; port: number}
  /** `SENTINEL ckquorum`: OK, or why not. */
  quorum?: {ok: boolean; detail: string}
  /** What went wrong reading it (redis-cli's last words). */
  error?: string
}

const address = (node: Pick<InventoryNode, 'address'>) => node.address

/** The member's facts: three tagged sections (`== info`, `== sentinel`, `== quorum`), each redis-cli's output. */
export function redisFactsCommand(
  cluster: Pick<RedisCluster, 'masterName'>,
  member: Pick<RedisCluster['members'][number], 'port' | 'sentinelPort'>,
  node: Pick<InventoryNode, 'address'>,
  withPassword: boolean,
): RemoteCommand {
  const cli = (port: number) => `redis-cli --no-auth-warning -h ${quote(address(node))} -p ${port}`
  return {
    script: [
      'command -v redis-cli > /dev/null || exit 127',
      ...(withPassword ? ['IFS= read -r REDISCLI_AUTH && export REDISCLI_AUTH'] : []),
      `echo '== info'; ${cli(member.port)} INFO replication 2>&1; ${cli(member.port)} CONFIG GET replica-priority 2>&1`,
      `echo '== sentinel'; ${cli(member.sentinelPort)} SENTINEL get-master-addr-by-name ${quote(cluster.masterName)} 2>&1`,
      `echo '== quorum'; ${cli(member.sentinelPort)} SENTINEL ckquorum ${quote(cluster.masterName)} 2>&1`,
      'true',
    ].join('\n'),
  }
}

function sections(stdout: string): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  let current = ''
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/\r$/, '')
    const tag = /^== (\w+)$/.exec(line)
    if (tag) current = tag[1]!
    else if (current) (out[current] ??= []).push(line)
  }
  return out
}

/** `INFO replication` (key:value lines; `slaveN:ip=..,port=..,state=..,offset=..,lag=..`) and the sections after it. */
export function parseRedisFacts(node: string, member: {address: string; port: number}, stdout: string): RedisMemberFacts {
  const s = sections(stdout)
  const info = new Map<string, string>()
  for (const line of s.info ?? []) {
    const at = line.indexOf(':')
    if (at > 0) info.set(line.slice(0, at), line.slice(at + 1).trim())
  }
  const facts: RedisMemberFacts = {node, address: member.address, port: member.port, replicas: []}
  const role = info.get('role')
  if (role === 'master' || role === 'slave') facts.role = role
  else facts.error = (s.info ?? []).filter(Boolean).slice(-1)[0] ?? 'no answer'
  if (role === 'slave') {
    facts.masterHost = info.get('master_host')
    facts.masterPort = Number(info.get('master_port'))
    facts.linkUp = info.get('master_link_status') === 'up'
    if (/^\d+$/.test(info.get('master_link_down_since_seconds') ?? '')) facts.linkDownSeconds = Number(info.get('master_link_down_since_seconds'))
    if (/^\d+$/.test(info.get('slave_repl_offset') ?? '')) facts.offset = Number(info.get('slave_repl_offset'))
  }
  if (role === 'master' && /^\d+$/.test(info.get('master_repl_offset') ?? '')) facts.offset = Number(info.get('master_repl_offset'))
  for (const [key, value] of info) {
    if (!/^slave\d+$/.test(key)) continue
    const fields = Object.fromEntries(value.split(',').map((kv) => kv.split('=') as [string, string]))
    if (fields.ip && /^\d+$/.test(fields.port ?? '') && /^\d+$/.test(fields.offset ?? ''))
      facts.replicas.push({address: fields.ip, port: Number(fields.port), state: fields.state ?? '', offset: Number(fields.offset)})
  }
  // CONFIG GET prints the name, then the value.
  const infoLines = s.info ?? []
  const at = infoLines.indexOf('replica-priority')
  if (at >= 0 && /^\d+$/.test(infoLines[at + 1] ?? '')) facts.priority = Number(infoLines[at + 1])
  const [host, port] = (s.sentinel ?? []).filter(Boolean)
  if (host && /^\d+$/.test(port ?? '') && !host.includes(' ')) facts.sentinelMaster = {address: host, port: Number(port)}
  const quorum = (s.quorum ?? []).filter(Boolean).join(' ')
  if (quorum) facts.quorum = {ok: quorum.startsWith('OK'), detail: quorum}
  return facts
}
