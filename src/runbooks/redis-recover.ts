import {setTimeout as sleep} from 'node:timers/promises'
import {findNode} from '../inventory/load.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {renderCommand} from '../lib/shell.js'
import {redisCliCommand, redisCluster} from '../redis/access.js'
import {failoverProblems} from '../redis/decide.js'
import type {RedisMemberFacts} from '../redis/facts.js'
import {judgeRedis} from '../redis/judge.js'
import {parseRedisPersistence, redisPersistenceCommand, type RedisPersistence} from '../redis/persistence.js'
import {chooseRecoverySource, type RecoveryCandidate} from '../redis/recover.js'
import {parseSentinelMaster, parseSentinelMasterView, repointArguments, sentinelViewProblems, type SentinelSettings} from '../redis/sentinel.js'
import {startMemberCommand} from './process-control.js'
import {readFacts, redisCli, startAndWait, startCommand} from './redis-common.js'
import {table} from './render.js'
import type {PlannedCommand, Runbook, StepContext} from './types.js'

export interface RedisRecoverOptions {
  /** The member to start as master (default: the one with the most recent data). */
  from?: string
}

export interface RedisRecoverState {
  requested?: string
  source?: string
  others?: string[]
  reason?: string
  candidates?: RecoveryCandidate[]
  /** The sentinels' settings for the master (quorum, timeouts), carried over when they are pointed at the source. */
  sentinelSettings?: SentinelSettings
  /** Members whose sentinel named another master (pointed at the source by the sentinels step). */
  sentinelsToPoint?: string[]
  /** Members down when the facts were read (started by this run). */
  down?: string[]
  /** Keys (DBSIZE) per member after the run. */
  keys?: Record<string, number>
  verified?: string[]
}

type Ctx = StepContext<RedisRecoverState>

const SETTLE_TIMEOUT_MS = 120_000

const addressOf = (ctx: Pick<Ctx, 'loaded'>, node: string) => findNode(ctx.loaded, node).address
const portOf = (ctx: Pick<Ctx, 'loaded'>, node: string) => redisCluster(ctx.loaded).members.find((m) => m.node === node)!.port

async function readPersistence(ctx: Ctx, facts: readonly RedisMemberFacts[]): Promise<RedisPersistence[]> {
  const cluster = redisCluster(ctx.loaded)
  // Every member's, running or not: a running replica that has not reached its master since it started knows no other age.
  return Promise.all(
    cluster.members
      .filter((m) => facts.some((f) => f.node === m.node))
      .map(async (m) => {
        try {
          const r = await ctx.run(m.node, redisPersistenceCommand(m.dataDir), {timeoutMs: 30_000})
          if (r.code !== 0) return {node: m.node, found: false, files: [], bytes: 0, error: (r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.code}`}
          return parseRedisPersistence(m.node, r.stdout)
        } catch (error) {
          return {node: m.node, found: false, files: [], bytes: 0, error: error instanceof Error ? error.message : String(error)}
        }
      }),
  )
}

function candidatesReport(facts: readonly RedisMemberFacts[], persistence: readonly RedisPersistence[], candidates: readonly RecoveryCandidate[]): string[] {
  return table(
    ['member', 'redis-server', 'data files', 'last write', 'its sentinel names'],
    facts.map((f) => {
      const p = persistence.find((x) => x.node === f.node)
      const c = candidates.find((x) => x.node === f.node)
      return [
        f.node,
        f.role ? `running (${f.role}${f.role === 'slave' ? `, link ${f.linkUp ? 'up' : 'down'}` : ''})` : 'down',
        p ? (p.kind ? `${p.kind}, ${p.bytes} bytes` : (p.error ?? (p.found ? 'none' : 'no data directory'))) : '-',
        c?.ageSeconds !== undefined ? `${c.ageSeconds.toFixed(1)} s ago` : `- (${c?.why ?? '?'})`,
        f.sentinelMaster ? `${f.sentinelMaster.address}:${f.sentinelMaster.port}` : 'no answer',
      ]
    }),
  )
}

async function sentinelProblems(ctx: Ctx, members: number): Promise<string[]> {
  const cluster = redisCluster(ctx.loaded)
  const source = ctx.state.source!
  const views = await Promise.all(
    cluster.members.map(async (m) => {
      const out = await redisCli(ctx, m.node, 'sentinel', ['SENTINEL', 'MASTER', cluster.masterName], 'SENTINEL MASTER').catch(
        (e: unknown) => (e as Error).message,
      )
      return sentinelViewProblems(m.node, parseSentinelMasterView(out), addressOf(ctx, source), portOf(ctx, source), members)
    }),
  )
  return views.flat()
}

async function dbsize(ctx: Ctx, node: string): Promise<number> {
  return Number((await redisCli(ctx, node, 'server', ['DBSIZE'], 'DBSIZE')).trim())
}

const planned = (loaded: Ctx['loaded'], node: string, target: 'server' | 'sentinel', args: string[], note?: string, passwordArg = false): PlannedCommand => ({
  node,
  command: renderCommand(redisCliCommand(loaded, node, target, args, {passwordAsLastArgument: passwordArg})),
  ...(note ? {note} : {}),
})

export const redisRecover: Runbook<RedisRecoverState, RedisRecoverOptions> = {
  name: 'redis-recover',
  summary: 'Bring Redis with Sentinel back after its members went down: the member with the most recent data as master, the others as its replicas.',
  description: [
    'Reads every member (INFO replication where redis-server answers, the master each sentinel names) and, for each one',
    "that is down, its persistence files (the AOF's base and incremental files, else the RDB) with the age of its last",
    'write by its own clock. Chooses the master: a running master the sentinels agree on stays it; else the member with',
    'the most recent data (--from to name it; one with older data is refused), the one the sentinels named winning a tie.',
    'Points the sentinels at it if they watched another (SENTINEL REMOVE/MONITOR, their settings and password carried',
    'over), starts it (control.start) and waits until it has loaded its data, makes it a master (REPLICAOF NO ONE),',
    'then starts the others and makes them its replicas (DATA RISK: what they hold is replaced by a copy of the master),',
    'and waits until every member follows it and the sentinels agree.',
  ].join('\n'),
  needs: 'databases.redis (members with dataDir and control, masterName, password); redis-cli on the members',

  setup({loaded, options}) {
    redisCluster(loaded)
    return options.from ? {requested: options.from} : {}
  },

  steps: [
    {
      id: 'facts',
      title: 'Read every member and its data files; choose the master',
      risk: 'read',
      description: 'INFO replication where redis-server answers, the master each sentinel names, the persistence files of each member that is down.',
      plan: (state, loaded) => ({
        summary: `Read the ${redisCluster(loaded).members.length} members${state.requested ? `; start ${state.requested} as master if its data is the newest` : ''}`,
        commands: redisCluster(loaded).members.map((m) => ({
          node: m.node,
          command: renderCommand(redisPersistenceCommand(m.dataDir)),
          note: 'the age of its last write',
        })),
      }),
      async gather(ctx) {
        const facts = await readFacts(ctx)
        const persistence = await readPersistence(ctx, facts)
        const choice = chooseRecoverySource(facts, persistence, ctx.state.requested)
        ctx.report(candidatesReport(facts, persistence, choice.candidates))
        ctx.state.candidates = choice.candidates
        if (!choice.ok) throw new CtlError(`Cannot recover: ${choice.reason}`, {exitCode: ExitCode.cannotRun, code: choice.code, hint: choice.hint})
        const cluster = redisCluster(ctx.loaded)
        const answering = facts.filter((f) => f.sentinelMaster)
        if (answering.length < Math.floor(facts.length / 2) + 1)
          throw new CtlError(`Only ${answering.length} of ${facts.length} sentinels answer: they could not agree on any master`, {
            exitCode: ExitCode.cannotRun,
            code: 'redis.sentinels-down',
            hint: 'Start the sentinels first (redis-sentinel on each member), then run again.',
          })
        const down = facts.filter((f) => f.role === undefined).map((f) => f.node)
        const all = facts.map((f) => f.node)
        if (down.length === 0 && failoverProblems(facts, choice.source, all, cluster.maxLagBytes).length === 0) {
          ctx.finishEarly(`every member runs and follows ${choice.source}, and the sentinels agree`)
          return
        }
        for (const node of down) startCommand(ctx, node)
        ctx.state.source = choice.source
        ctx.state.others = choice.others
        ctx.state.reason = choice.reason
        ctx.state.down = down
        const source = facts.find((f) => f.node === choice.source)!
        ctx.state.sentinelsToPoint = answering
          .filter((f) => f.sentinelMaster!.address !== source.address || f.sentinelMaster!.port !== source.port)
          .map((f) => f.node)
        if (ctx.state.sentinelsToPoint.length > 0) {
          const from = answering.find((f) => !ctx.state.sentinelsToPoint!.includes(f.node)) ?? answering[0]!
          const out = await redisCli(ctx, from.node, 'sentinel', ['SENTINEL', 'MASTER', cluster.masterName], 'SENTINEL MASTER')
          ctx.state.sentinelSettings = parseSentinelMaster(out, facts.length)
        }
        ctx.report([`Decision: ${choice.source} is the master (${choice.reason}); ${choice.others.join(', ')} become its replicas.`])
      },
    },
    {
      id: 'sentinels',
      title: 'Point the sentinels at the chosen master',
      risk: 'change',
      description:
        'Only for sentinels that watch another master: SENTINEL REMOVE, MONITOR the chosen one with the same quorum, SET the same timeouts and the password.',
      plan(state, loaded) {
        const points = state.sentinelsToPoint ?? []
        if (!state.source) return {summary: 'After the decision', commands: []}
        if (points.length === 0) return {summary: `Every sentinel names ${state.source} already`, commands: [], skip: 'every sentinel names the chosen master'}
        const args = repointArguments(
          redisCluster(loaded).masterName,
          loaded.inventory.nodes.find((n) => n.name === state.source)!.address,
          redisCluster(loaded).members.find((m) => m.node === state.source)!.port,
          state.sentinelSettings ?? {quorum: 2, carried: []},
        )
        return {
          summary: `Point the sentinels of ${points.join(', ')} at ${state.source}`,
          commands: points.flatMap((node) => [
            planned(loaded, node, 'sentinel', args.remove),
            planned(loaded, node, 'sentinel', args.monitor),
            ...(args.set ? [planned(loaded, node, 'sentinel', args.set)] : []),
            ...(redisCluster(loaded).password ? [planned(loaded, node, 'sentinel', args.authPass, 'the password from stdin', true)] : []),
          ]),
        }
      },
      async act(ctx) {
        const cluster = redisCluster(ctx.loaded)
        const source = ctx.state.source!
        await ctx.confirm(`Point the sentinels of ${ctx.state.sentinelsToPoint!.join(', ')} at ${source} (they watch another master now)?`)
        const args = repointArguments(cluster.masterName, addressOf(ctx, source), portOf(ctx, source), ctx.state.sentinelSettings!)
        for (const node of ctx.state.sentinelsToPoint!) {
          // A resumed run finds some already pointed: REMOVE of a master it no longer knows is fine.
          await redisCli(ctx, node, 'sentinel', args.remove, 'SENTINEL REMOVE').catch((error: unknown) => {
            if (!(error instanceof CtlError && /No such master/i.test(error.message))) throw error
          })
          await redisCli(ctx, node, 'sentinel', args.monitor, 'SENTINEL MONITOR')
          if (args.set) await redisCli(ctx, node, 'sentinel', args.set, 'SENTINEL SET')
          if (cluster.password) await redisCli(ctx, node, 'sentinel', args.authPass, 'SENTINEL SET auth-pass', {passwordAsLastArgument: true})
          ctx.progress(`${node}: its sentinel watches ${source}`)
        }
      },
    },
    {
      id: 'start-master',
      title: 'Start the chosen member as master',
      risk: 'change',
      description: 'control.start unless it runs, wait until it has loaded its data (PING), REPLICAOF NO ONE and CONFIG REWRITE unless it is a master already.',
      plan(state, loaded) {
        if (!state.source) return {summary: 'After the decision', commands: []}
        const member = redisCluster(loaded).members.find((m) => m.node === state.source)!
        return {
          summary: `Start ${state.source} and make it the master`,
          commands: [
            ...(state.down?.includes(state.source) && member.control
              ? [
                  {
                    node: state.source,
                    command: renderCommand(
                      startMemberCommand(
                        member.control,
                        loaded.inventory.nodes.find((n) => n.name === state.source)!,
                      ),
                    ),
                  },
                ]
              : []),
            planned(loaded, state.source, 'server', ['REPLICAOF', 'NO', 'ONE'], 'unless it is a master'),
            planned(loaded, state.source, 'server', ['CONFIG', 'REWRITE'], 'so a restart keeps it'),
          ],
        }
      },
      async act(ctx) {
        const source = ctx.state.source!
        await startAndWait(ctx, source)
        const role = (await redisCli(ctx, source, 'server', ['ROLE'], 'ROLE')).split('\n')[0]?.trim()
        if (role !== 'master') {
          await redisCli(ctx, source, 'server', ['REPLICAOF', 'NO', 'ONE'], 'REPLICAOF NO ONE')
          await redisCli(ctx, source, 'server', ['CONFIG', 'REWRITE'], 'CONFIG REWRITE')
        }
        ctx.report([`${source} is the master with ${await dbsize(ctx, source)} keys.`])
      },
    },
    {
      id: 'rejoin',
      title: 'Start the others as its replicas',
      risk: 'data-risk',
      description:
        'control.start for each member that is down, then REPLICAOF the master and CONFIG REWRITE: its data is replaced by a full copy of the master.',
      confirmation: (state) =>
        `Make ${state.others?.join(', ')} replicas of ${state.source}? What they hold is replaced by a copy of ${state.source}'s data (${
          state.candidates
            ?.filter((c) => c.node !== state.source && c.ageSeconds !== undefined)
            .map((c) => `${c.node}: last write ${c.ageSeconds!.toFixed(1)} s ago`)
            .join(', ') || 'no data of their own'
        }).`,
      plan(state, loaded) {
        if (!state.source) return {summary: 'After the decision', commands: []}
        const address = loaded.inventory.nodes.find((n) => n.name === state.source)!.address
        const port = redisCluster(loaded).members.find((m) => m.node === state.source)!.port
        return {
          summary: `Start ${state.others!.join(', ')} as replicas of ${state.source}`,
          commands: state.others!.flatMap((node) => {
            const member = redisCluster(loaded).members.find((m) => m.node === node)!
            return [
              ...(state.down?.includes(node) && member.control
                ? [
                    {
                      node,
                      command: renderCommand(
                        startMemberCommand(
                          member.control,
                          loaded.inventory.nodes.find((n) => n.name === node)!,
                        ),
                      ),
                    },
                  ]
                : []),
              planned(loaded, node, 'server', ['REPLICAOF', address, String(port)], 'unless it replicates from it already'),
              planned(loaded, node, 'server', ['CONFIG', 'REWRITE']),
            ]
          }),
        }
      },
      async act(ctx) {
        const source = ctx.state.source!
        const address = addressOf(ctx, source)
        const port = portOf(ctx, source)
        for (const node of ctx.state.others!) {
          await startAndWait(ctx, node)
          const info = await redisCli(ctx, node, 'server', ['INFO', 'replication'], 'INFO replication')
          const follows = /^role:slave$/m.test(info) && info.includes(`master_host:${address}`) && new RegExp(`^master_port:${port}$`, 'm').test(info)
          if (!follows) {
            await redisCli(ctx, node, 'server', ['REPLICAOF', address, String(port)], 'REPLICAOF')
            await redisCli(ctx, node, 'server', ['CONFIG', 'REWRITE'], 'CONFIG REWRITE')
          }
          ctx.progress(`${node}: replica of ${source}`)
        }
      },
    },
    {
      id: 'verify',
      title: 'Every member follows the master and the sentinels agree',
      risk: 'read',
      description:
        'Waits until the chosen member is the master a majority of sentinels name and every other one is its linked replica within maxLagBytes; counts the keys of each.',
      plan: (state) => ({summary: state.source ? `Wait until every member replicates from ${state.source}` : 'After the decision', commands: []}),
      async verify(ctx) {
        if (ctx.dryRun) return
        const cluster = redisCluster(ctx.loaded)
        const started = Date.now()
        for (;;) {
          const facts = await readFacts(ctx)
          const problems = failoverProblems(
            facts,
            ctx.state.source!,
            facts.map((f) => f.node),
            cluster.maxLagBytes,
          )
          // The sentinels must also know the replicas and each other again (REMOVE forgot them): else no automatic failover.
          if (problems.length === 0) problems.push(...(await sentinelProblems(ctx, facts.length)))
          if (problems.length === 0) {
            ctx.state.keys = Object.fromEntries(await Promise.all(facts.map(async (f) => [f.node, await dbsize(ctx, f.node)] as const)))
            ctx.state.verified = judgeRedis(ctx.loaded.env, facts, cluster.maxLagBytes).map((f) => `${f.target}: ${f.detail}`)
            ctx.report([
              ...ctx.state.verified,
              `Keys: ${Object.entries(ctx.state.keys)
                .map(([n, k]) => `${n} ${k}`)
                .join(', ')}`,
            ])
            return
          }
          if (Date.now() - started > SETTLE_TIMEOUT_MS)
            throw new CtlError(`Not every member follows ${ctx.state.source}: ${problems.join('; ')}`, {
              code: 'redis.not-settled',
              hint: 'Look at the redis check (ctl check run <env> redis) and the members’ logs; a full resync of a large dataset takes a while.',
            })
          ctx.progress(problems[0]!)
          await sleep(1000)
        }
      },
    },
  ],

  summarize: (state) => ({source: state.source, reason: state.reason, others: state.others, keys: state.keys, verified: state.verified}),
}
