import {CtlError} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {readRedisFacts, redisCliCommand, redisPasswordStdin} from '../redis/access.js'
import type {RedisMemberFacts} from '../redis/facts.js'
import {replicaLagBytes, sentinelView} from '../redis/judge.js'
import {table} from './render.js'
import type {StepContext} from './types.js'

/** What the Redis runbooks share: reading every member, the facts table, one redis-cli call that must succeed. */

type Ctx = Pick<StepContext<unknown>, 'loaded' | 'run'>

export const readFacts = (ctx: Pick<Ctx, 'loaded' | 'run'>) =>
  readRedisFacts(ctx.loaded, (node, command, options) => ctx.run(node, command, {...(options.stdin ? {stdin: options.stdin} : {}), timeoutMs: 30_000}))

export function factsReport(facts: readonly RedisMemberFacts[]): string[] {
  const view = sentinelView(facts)
  const master = facts.find((f) => view.master && f.address === view.master.address && f.port === view.master.port)
  return table(
    ['member', 'role', 'link', 'lag (bytes)', 'priority', 'its sentinel names'],
    facts.map((f) => [
      f.node,
      f.role ?? `down (${f.error ?? '?'})`,
      f.role === 'slave' ? (f.linkUp ? 'up' : 'down') : '-',
      f.role === 'slave' ? String(replicaLagBytes(master, f) ?? '?') : '-',
      String(f.priority ?? '?'),
      f.sentinelMaster ? `${f.sentinelMaster.address}:${f.sentinelMaster.port}` : 'no answer',
    ]),
  )
}

export async function redisCli(
  ctx: Ctx,
  node: string,
  target: 'server' | 'sentinel',
  args: string[],
  what: string,
  options: {passwordAsLastArgument?: boolean} = {},
): Promise<string> {
  const stdin = redisPasswordStdin(ctx.loaded)
  const r = await ctx.run(node, redisCliCommand(ctx.loaded, node, target, args, options), {...(stdin ? {stdin} : {}), timeoutMs: 30_000})
  if (r.code !== 0) throw new CtlError(`${what} failed on ${node}: ${lastLines(r, 2, ' ')}`, {host: node, code: 'redis.command-failed'})
  return r.stdout
}
