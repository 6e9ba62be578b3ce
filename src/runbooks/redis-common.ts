import {setTimeout as sleep} from 'node:timers/promises'
import {findNode} from '../inventory/load.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {readRedisFacts, redisCliCommand, redisCluster, redisPasswordStdin} from '../redis/access.js'
import type {RedisMemberFacts} from '../redis/facts.js'
import {replicaLagBytes, sentinelView} from '../redis/judge.js'
import {table} from './render.js'
import {startMemberCommand} from './process-control.js'
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

const READY_TIMEOUT_MS = 120_000

export function startCommand(ctx: Pick<Ctx, 'loaded'>, node: string) {
  const control = redisCluster(ctx.loaded).members.find((m) => m.node === node)?.control
  if (!control)
    throw new CtlError(`databases.redis member ${node} has no control: ctl cannot start its redis-server`, {
      exitCode: ExitCode.cannotRun,
      code: 'redis.no-control',
      hint: 'Describe how to start it (control: {kind: systemd, unit: redis-server}, or commands), or start it by hand and run again.',
    })
  return startMemberCommand(control, findNode(ctx.loaded, node))
}

/** Starts a member's redis-server unless it runs, then waits until it has loaded its data and answers PING. */
export async function startAndWait(ctx: Pick<StepContext<unknown>, 'loaded' | 'run' | 'progress'>, node: string): Promise<void> {
  const ping = async () => (await ctx.run(node, redisCliCommand(ctx.loaded, node, 'server', ['PING']), stdinOpts(ctx)).catch(() => undefined))?.stdout.trim()
  if ((await ping()) !== 'PONG') {
    const r = await ctx.run(node, startCommand(ctx, node), {timeoutMs: 60_000})
    if (r.code !== 0)
      throw new CtlError(`Starting redis-server failed on ${node}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`, {
        host: node,
        code: 'redis.start-failed',
        hint: "Look at the member's Redis log (a damaged AOF: redis-check-aof --fix, after a copy).",
      })
  }
  const started = Date.now()
  for (;;) {
    const answer = await ping()
    if (answer === 'PONG') return
    if (Date.now() - started > READY_TIMEOUT_MS)
      throw new CtlError(`redis-server on ${node} did not answer PING within ${READY_TIMEOUT_MS / 1000} s (last: ${answer ?? 'no answer'})`, {
        host: node,
        code: 'redis.start-timeout',
        hint: 'A large dataset takes a while to load (LOADING): run again with --resume when it answers.',
      })
    ctx.progress(`${node}: ${answer?.startsWith('LOADING') ? 'loading its data' : 'waiting for redis-server'}`)
    await sleep(500)
  }
}

export function stdinOpts(ctx: Pick<Ctx, 'loaded'>): {stdin?: string; timeoutMs: number} {
  const stdin = redisPasswordStdin(ctx.loaded)
  return stdin ? {stdin, timeoutMs: 30_000} : {timeoutMs: 30_000}
}
