import type {LoadedInventory} from '../inventory/load.js'
import type {RedisCluster} from '../inventory/schema/databases.js'
import {resolveSecret} from '../inventory/secrets.js'
import {quote, type RemoteCommand} from '../lib/shell.js'
import type {RemoteResult} from '../ssh/pool.js'
import {parseRedisFacts, redisFactsCommand, type RedisMemberFacts} from './facts.js'

/** How Redis is reached: redis-cli on a member's node, the password on stdin into REDISCLI_AUTH. */

/** Runs a command on a node by name, with optional stdin (the check's pool, a runbook's ctx.run). */
export type RunOnNode = (
  node: string,
  command: RemoteCommand,
  options: {stdin?: string; step: string},
) => Promise<Pick<RemoteResult, 'code' | 'stdout' | 'stderr'>>

export function redisCluster(loaded: Pick<LoadedInventory, 'inventory'>): RedisCluster {
  const cluster = loaded.inventory.databases.redis
  if (!cluster) throw new Error('databases.redis is not in the inventory')
  return cluster
}

export function redisPasswordStdin(loaded: Pick<LoadedInventory, 'inventory' | 'file'>): string | undefined {
  const cluster = redisCluster(loaded)
  return cluster.password ? `${resolveSecret(loaded, cluster.password)}\n` : undefined
}

const memberAddress = (loaded: Pick<LoadedInventory, 'inventory'>, node: string) => loaded.inventory.nodes.find((n) => n.name === node)!.address

/** Every member's facts, read on its own node, all at once; a member that cannot be read carries its error. */
export async function readRedisFacts(loaded: Pick<LoadedInventory, 'inventory' | 'file'>, run: RunOnNode): Promise<RedisMemberFacts[]> {
  const cluster = redisCluster(loaded)
  const stdin = redisPasswordStdin(loaded)
  return Promise.all(
    cluster.members.map(async (member) => {
      const base = {node: member.node, address: memberAddress(loaded, member.node), port: member.port}
      try {
        const r = await run(member.node, redisFactsCommand(cluster, member, base, stdin !== undefined), {step: 'redis-cli', ...(stdin ? {stdin} : {})})
        if (r.code === 127) return {...base, replicas: [], error: 'redis-cli is not installed on the node'}
        if (r.code !== 0) return {...base, replicas: [], error: (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] ?? `exit ${r.code}`}
        return parseRedisFacts(member.node, base, r.stdout)
      } catch (error) {
        return {...base, replicas: [], error: error instanceof Error ? error.message : String(error)}
      }
    }),
  )
}

/** redis-cli on a member's node against its redis-server (or its sentinel), arguments quoted. */
export function redisCliCommand(
  loaded: Pick<LoadedInventory, 'inventory'>,
  node: string,
  target: 'server' | 'sentinel',
  args: readonly string[],
  options: {passwordAsLastArgument?: boolean} = {},
): RemoteCommand {
  const cluster = redisCluster(loaded)
  const member = cluster.members.find((m) => m.node === node)!
  const port = target === 'server' ? member.port : member.sentinelPort
  if (options.passwordAsLastArgument && !cluster.password) throw new Error('passwordAsLastArgument without databases.redis.password')
  // The password as an argument (SENTINEL SET <name> auth-pass) goes in on redis-cli's stdin (-x), never argv.
  const feed = options.passwordAsLastArgument ? `printf '%s' "$REDISCLI_AUTH" | ` : ''
  const x = options.passwordAsLastArgument ? ' -x' : ''
  return {
    script: [
      ...(cluster.password ? ['IFS= read -r REDISCLI_AUTH && export REDISCLI_AUTH'] : []),
      `out=$(${feed}redis-cli --no-auth-warning -h ${quote(memberAddress(loaded, node))} -p ${port}${x} ${args.map(quote).join(' ')} 2>&1); rc=$?`,
      // redis-cli exits 0 on an error reply: the reply's text says it.
      'printf "%s\\n" "$out"; case $out in ERR*|*NOAUTH*|*WRONGPASS*|"(error)"*|*"Could not connect"*) exit 1 ;; esac; exit $rc',
    ].join('\n'),
  }
}
