import {CtlError, ExitCode} from '../lib/errors.js'
import {renderCommand} from '../lib/shell.js'
import {redisCliCommand, redisCluster} from '../redis/access.js'
import {chooseFailoverTarget, failoverProblems} from '../redis/decide.js'
import {redisFactsCommand, type RedisMemberFacts} from '../redis/facts.js'
import {judgeRedis, replicaLagBytes, sentinelView} from '../redis/judge.js'
import {factsReport, readFacts, redisCli as cli} from './redis-common.js'
import type {Runbook, StepContext} from './types.js'

export interface RedisFailoverOptions {
  /** The replica to promote (default: the healthy one with the least lag). */
  to?: string
}

export interface RedisFailoverState {
  requested?: string
  master?: string
  target?: string
  /** The members that answered before the failover: the ones that must follow the new master. */
  answering?: string[]
  /** The other replicas' replica-priority before the run set it to 0 (restored afterwards). */
  priorities: Record<string, number>
  /** The sentinels named the target this long after SENTINEL FAILOVER. */
  switchedAfterMs?: number
  verified?: string[]
}

type Ctx = StepContext<RedisFailoverState>

const SWITCH_TIMEOUT_MS = 60_000
const SETTLE_TIMEOUT_MS = 60_000

/** Gives every other replica its priority back (the ones this run set to 0), whatever happened. */
async function restorePriorities(ctx: Ctx): Promise<void> {
  for (const [node, priority] of Object.entries(ctx.state.priorities)) {
    await cli(ctx, node, 'server', ['CONFIG', 'SET', 'replica-priority', String(priority)], 'restoring replica-priority')
    delete ctx.state.priorities[node]
  }
}

export const redisFailover: Runbook<RedisFailoverState, RedisFailoverOptions> = {
  name: 'redis-failover',
  summary: 'Planned Redis failover through Sentinel to a chosen healthy replica (refusing a lagging one), then checks every member follows.',
  description: [
    'Reads every member (INFO replication, replica-priority, the master its sentinel names), chooses the replica to',
    'promote (--to, or the linked replica with the least lag; one beyond databases.redis.maxLagBytes is refused: it',
    "would lose writes), sets the other replicas' replica-priority to 0 so Sentinel can only pick that one, asks a",
    'sentinel for SENTINEL FAILOVER, waits until a majority of sentinels name the new master and it says it is one,',
    'gives the others their priority back (also when the failover fails), and waits until every member replicates',
    'from the new master. Sentinel-aware clients follow; writes to the old master in its last moment are not',
    'replicated (asynchronous replication): the failover asks first.',
  ].join('\n'),
  needs: 'databases.redis (members, masterName, password); redis-cli on the members',

  setup({loaded, options}) {
    redisCluster(loaded)
    return {...(options.to ? {requested: options.to} : {}), priorities: {}}
  },

  steps: [
    {
      id: 'facts',
      title: 'Read every member and choose the replica to promote',
      risk: 'read',
      description: 'INFO replication and replica-priority of each redis-server, the master each sentinel names; then the decision.',
      plan: (state, loaded) => ({
        summary: `Read the ${redisCluster(loaded).members.length} members${state.requested ? `; promote ${state.requested} if fit` : '; choose the replica with the least lag'}`,
        commands: redisCluster(loaded).members.map((m) => {
          const cluster = redisCluster(loaded)
          const address = loaded.inventory.nodes.find((n) => n.name === m.node)!.address
          return {
            node: m.node,
            command: renderCommand(redisFactsCommand(cluster, m, {address}, cluster.password !== undefined)),
            ...(cluster.password ? {note: 'password on stdin'} : {}),
          }
        }),
      }),
      async gather(ctx) {
        const facts = await readFacts(ctx)
        ctx.report(factsReport(facts))
        const choice = chooseFailoverTarget(facts, redisCluster(ctx.loaded).maxLagBytes, ctx.state.requested)
        if (!choice.ok) throw new CtlError(`Cannot fail over: ${choice.reason}`, {exitCode: ExitCode.cannotRun, code: choice.code, hint: choice.hint})
        ctx.state.master = choice.master.node
        ctx.state.target = choice.target.node
        ctx.state.answering = facts.filter((f) => f.role !== undefined).map((f) => f.node)
        ctx.report([`Decision: promote ${choice.target.node} (${replicaLagBytes(choice.master, choice.target)} bytes behind ${choice.master.node}).`])
      },
    },
    {
      id: 'failover',
      title: 'Fail over through Sentinel to the chosen replica',
      risk: 'change',
      description:
        'replica-priority 0 on the other replicas, SENTINEL FAILOVER, wait until a majority of sentinels name the new master and it is one; priorities restored however it ends.',
      plan(state, loaded) {
        if (!state.target) return {summary: 'After the decision', commands: []}
        const others = redisCluster(loaded).members.filter((m) => m.node !== state.target && m.node !== state.master)
        return {
          summary: `${state.master} → ${state.target}`,
          commands: [
            ...others.map((m) => ({
              node: m.node,
              command: renderCommand(redisCliCommand(loaded, m.node, 'server', ['CONFIG', 'SET', 'replica-priority', '0'])),
              note: 'restored afterwards',
            })),
            {
              node: state.target,
              command: renderCommand(redisCliCommand(loaded, state.target, 'sentinel', ['SENTINEL', 'FAILOVER', redisCluster(loaded).masterName])),
            },
          ],
        }
      },
      async act(ctx) {
        const {target, master} = ctx.state
        await ctx.confirm(
          `Fail the Redis master over from ${master} to ${target}? Clients reconnect; writes to ${master} in its last moment may not reach ${target}.`,
        )
        const cluster = redisCluster(ctx.loaded)
        const facts = await readFacts(ctx)
        const named = (now: readonly RedisMemberFacts[]) => {
          const view = sentinelView(now)
          const promoted = now.find((f) => f.node === target)
          return view.master !== undefined && promoted !== undefined && view.master.address === promoted.address && promoted.role === 'master'
        }
        try {
          for (const other of facts.filter((f) => f.node !== target && f.role === 'slave')) {
            // A resumed run keeps the priority it saw first (this run may have set it to 0 already).
            ctx.state.priorities[other.node] ??= other.priority ?? 100
            await cli(ctx, other.node, 'server', ['CONFIG', 'SET', 'replica-priority', '0'], 'setting replica-priority 0')
          }
          const started = Date.now()
          // Resumed after the switch: asking again would move the master once more.
          if (!named(facts)) await cli(ctx, target!, 'sentinel', ['SENTINEL', 'FAILOVER', cluster.masterName], 'SENTINEL FAILOVER')
          for (;;) {
            if (named(await readFacts(ctx))) break
            if (Date.now() - started > SWITCH_TIMEOUT_MS)
              throw new CtlError(`The sentinels did not name ${target} master within ${SWITCH_TIMEOUT_MS / 1000} s`, {
                host: target,
                code: 'redis.failover-timeout',
                hint: "Look at the sentinels' logs (+failover-abort-*); the redis check shows where it stands.",
              })
            ctx.progress(`waiting for the sentinels to name ${target}`)
            await new Promise((resolve) => setTimeout(resolve, 500))
          }
          ctx.state.switchedAfterMs = Date.now() - started
          ctx.report([`The sentinels name ${target} master after ${(ctx.state.switchedAfterMs / 1000).toFixed(1)} s.`])
        } finally {
          await restorePriorities(ctx)
        }
      },
    },
    {
      id: 'verify',
      title: 'Every member follows the new master',
      risk: 'read',
      description:
        'Waits until the redis check passes on every member that answered before the failover: the old master a linked replica of the new one, every sentinel agreeing.',
      plan: (state) => ({summary: state.target ? `Wait until every member replicates from ${state.target}` : 'After the failover', commands: []}),
      async verify(ctx) {
        // A dry run failed nothing over: there is nothing to wait for.
        if (ctx.dryRun) return
        const started = Date.now()
        for (;;) {
          const facts = await readFacts(ctx)
          // The members that answered before must follow; one that was already down stays the redis check's business.
          const answering = ctx.state.answering ?? facts.map((f) => f.node)
          const problems = failoverProblems(facts, ctx.state.target!, answering, redisCluster(ctx.loaded).maxLagBytes)
          if (problems.length === 0) {
            ctx.state.verified = judgeRedis(ctx.loaded.env, facts, redisCluster(ctx.loaded).maxLagBytes).map((f) => `${f.target}: ${f.detail}`)
            ctx.report(ctx.state.verified)
            return
          }
          if (Date.now() - started > SETTLE_TIMEOUT_MS) {
            ctx.report(factsReport(facts))
            throw new CtlError(`Not every member follows ${ctx.state.target}: ${problems.join('; ')}`, {
              code: 'redis.not-settled',
              hint: 'The master changed; the members that lag resync by themselves. Run the redis check again in a minute.',
            })
          }
          await new Promise((resolve) => setTimeout(resolve, 1000))
        }
      },
    },
  ],

  summarize: (state) => ({master: state.master, target: state.target, switchedAfterMs: state.switchedAfterMs, verified: state.verified}),
}
