import {setTimeout as sleep} from 'node:timers/promises'
import {findNode} from '../inventory/load.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {quote, renderCommand} from '../lib/shell.js'
import {rabbitmqCluster, readRabbitFacts} from '../rabbitmq/access.js'
import {rabbitmqctlArgs, type RabbitNodeFacts} from '../rabbitmq/facts.js'
import {judgeRabbitmq} from '../rabbitmq/judge.js'
import {decideRabbitRecovery, type RabbitRecovery} from '../rabbitmq/recover.js'
import {startMemberCommand} from './process-control.js'
import {table} from './render.js'
import type {PlannedCommand, Runbook, StepContext} from './types.js'

export interface RabbitmqRecoverOptions {
  /** Start this node with force_boot when the node that stopped last is lost for good. */
  forceBoot?: string
}

export interface RabbitmqRecoverState {
  forceBoot?: string
  decision?: RabbitRecovery
  /** Nodes lost for good, left out of the cluster's verification: to be replaced. */
  lost?: string[]
  verified?: string[]
}

type Ctx = StepContext<RabbitmqRecoverState>

const START_TIMEOUT_S = 300
const SETTLE_TIMEOUT_MS = 120_000

const member = (ctx: Pick<Ctx, 'loaded'>, node: string) => rabbitmqCluster(ctx.loaded).members.find((m) => m.node === node)!
const readFacts = (ctx: Ctx) => readRabbitFacts(ctx.loaded, (node, command, options) => ctx.run(node, command, options))
const rabbitmqctl = (ctx: Pick<Ctx, 'loaded'>, node: string, args: string[]) => rabbitmqctlArgs(rabbitmqCluster(ctx.loaded), member(ctx, node).nodeName, args)

function startArgv(ctx: Pick<Ctx, 'loaded'>, node: string): string[] {
  const m = member(ctx, node)
  if (!m.control)
    throw new CtlError(`databases.rabbitmq member ${node} has no control: ctl cannot start it`, {
      exitCode: ExitCode.cannotRun,
      code: 'rabbitmq.no-control',
      hint: 'Describe how to start it (control: {kind: systemd, unit: rabbitmq-server}, or commands).',
    })
  return startMemberCommand(m.control, findNode(ctx.loaded, node))
}

function factsReport(facts: readonly RabbitNodeFacts[]): string[] {
  return table(
    ['node', 'rabbitmq', 'sees running', 'partitions', 'running at its last clean stop'],
    facts.map((f) => [
      `${f.node} (${f.nodeName})`,
      f.running ? 'running' : f.lost ? `LOST: ${f.lost}` : 'down',
      f.running ? f.runningNodes.join(', ') : '-',
      f.running
        ? Object.entries(f.partitions)
            .map(([n, u]) => `${n} ✗ ${u.join(',')}`)
            .join('; ') || 'none'
        : '-',
      f.runningAtShutdown ? f.runningAtShutdown.join(', ') : '-',
    ]),
  )
}

async function mustRun(ctx: Ctx, node: string, argv: string[], what: string, timeoutMs = 60_000): Promise<void> {
  const r = await ctx.run(node, argv, {timeoutMs})
  if (r.code !== 0) throw new CtlError(`${what} failed on ${node}: ${lastLines(r, 3, ' ')}`, {host: node, code: 'rabbitmq.command-failed'})
}

/** Starts the nodes at once (each waits for the others it needs), then waits until each has booted. */
async function startNodes(ctx: Ctx, nodes: readonly string[], running: readonly string[]): Promise<void> {
  await Promise.all(nodes.filter((n) => !running.includes(n)).map((n) => mustRun(ctx, n, startArgv(ctx, n), 'Starting RabbitMQ')))
  await Promise.all(nodes.map((n) => awaitStartup(ctx, n)))
}

/** `rabbitmqctl await_startup`, asked again while the node has not registered with epmd yet (it fails at once then). */
async function awaitStartup(ctx: Ctx, node: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_S * 1000
  for (;;) {
    const r = await ctx.run(node, rabbitmqctl(ctx, node, ['await_startup', '--timeout', '30']), {timeoutMs: 60_000})
    if (r.code === 0) return
    if (Date.now() > deadline)
      throw new CtlError(`RabbitMQ on ${node} did not boot within ${START_TIMEOUT_S} s: ${lastLines(r, 3, ' ')}`, {
        host: node,
        code: 'rabbitmq.not-booted',
        hint: "It may wait for a node that stopped after it (its log says 'Waiting for Mnesia tables'): run again to see the facts.",
      })
    ctx.progress(`${node}: waiting for RabbitMQ to boot`)
    await sleep(1000)
  }
}

const decision = (state: RabbitmqRecoverState) => state.decision
const forceLoadFile = (ctx: Pick<Ctx, 'loaded'>, node: string) => `${member(ctx, node).mnesiaDir}/force_load`

export const rabbitmqRecover: Runbook<RabbitmqRecoverState, RabbitmqRecoverOptions> = {
  name: 'rabbitmq-recover',
  summary:
    'Bring a RabbitMQ cluster back: after a full stop the node that stopped last first, a lost one replaced by force_boot (DATA RISK), a partition healed.',
  description: [
    'Reads every node (its own view by rabbitmqctl eval: running nodes, partitions, alarms; nodes_running_at_shutdown in its',
    'Mnesia directory; whether that directory still exists). Some nodes run: a partition is healed by restarting the',
    "minority side's nodes (stop_app, start_app); down nodes are started and rejoin. Every node down: RabbitMQ's rule, the",
    'node that stopped last (its record lists only itself) starts first, then the others join it. When that node is lost',
    'for good, ctl refuses and names the node that stopped last among the others: --force-boot <node> starts it with',
    'force_boot (DATA RISK: what only the lost node had is gone). Verifies every node runs, clustered, without partition or alarm.',
  ].join('\n'),
  needs: 'databases.rabbitmq (members with nodeName, mnesiaDir and control); rabbitmqctl on the members',

  setup({loaded, options}) {
    rabbitmqCluster(loaded)
    return options.forceBoot ? {forceBoot: options.forceBoot} : {}
  },

  steps: [
    {
      id: 'facts',
      title: 'Read every node; decide the order',
      risk: 'read',
      description: 'What each node sees (rabbitmqctl eval), its nodes_running_at_shutdown record, whether its Mnesia directory exists.',
      plan: (_state, loaded) => ({summary: `Read the ${rabbitmqCluster(loaded).members.length} nodes`, commands: []}),
      async gather(ctx) {
        const facts = await readFacts(ctx)
        ctx.report(factsReport(facts))
        const d = decideRabbitRecovery(facts, ctx.loaded.env, ctx.state.forceBoot)
        ctx.state.decision = d
        if (d.action === 'refuse') throw new CtlError(`Cannot recover: ${d.reason}`, {exitCode: ExitCode.cannotRun, code: d.code, hint: d.hint})
        if (d.action === 'healthy') return ctx.finishEarly(d.reason)
        if (d.action === 'start') for (const n of [...d.first, ...d.then]) if (!facts.find((f) => f.node === n)?.running) startArgv(ctx, n)
        ctx.report([`Decision: ${d.reason}.`])
      },
    },
    {
      id: 'force-boot',
      title: 'Allow the chosen node to boot without the lost one (force_boot)',
      risk: 'data-risk',
      description: 'Creates force_load in its Mnesia directory (what rabbitmqctl force_boot does): it boots without waiting for the node that stopped last.',
      confirmation: (state) => {
        const d = decision(state)
        return `Boot ${d?.action === 'start' ? d.forceBoot : '?'} without the node that stopped last? Messages and definitions only that node had are lost.`
      },
      plan(state, loaded) {
        const d = decision(state)
        if (d?.action !== 'start' || !d.forceBoot)
          return {summary: 'Not needed', commands: [], skip: 'no --force-boot, or the node that stopped last can start'}
        return {
          summary: `force_boot ${d.forceBoot}`,
          commands: [{node: d.forceBoot, command: renderCommand({script: `touch ${quote(forceLoadFile({loaded}, d.forceBoot))}`})}],
        }
      },
      async act(ctx) {
        const d = decision(ctx.state) as Extract<RabbitRecovery, {action: 'start'}>
        await mustRun(ctx, d.forceBoot!, ['touch', forceLoadFile(ctx, d.forceBoot!)], 'force_boot')
      },
    },
    {
      id: 'start',
      title: 'Start the nodes: the one that stopped last first, then the others',
      risk: 'change',
      description: 'control.start of the first node(s), rabbitmqctl await_startup, then the others the same way.',
      plan(state, loaded) {
        const d = decision(state)
        if (d?.action !== 'start') return {summary: 'Nothing to start', commands: [], skip: d ? 'every node runs' : 'after the decision'}
        const commands: PlannedCommand[] = [...d.first, ...d.then].flatMap((n) => [
          {node: n, command: renderCommand(startArgv({loaded}, n)), note: d.first.includes(n) ? 'first' : 'after the first ones booted'},
          {
            node: n,
            command: renderCommand(rabbitmqctl({loaded}, n, ['await_startup', '--timeout', '30'])),
            note: `again until it answers, ${START_TIMEOUT_S} s at most`,
          },
        ])
        return {
          summary: d.first.length > 0 ? `Start ${d.first.join(', ')} first, then ${d.then.join(', ') || 'no other'}` : `Start ${d.then.join(', ')}`,
          commands,
        }
      },
      async act(ctx) {
        const d = decision(ctx.state) as Extract<RabbitRecovery, {action: 'start'}>
        const running = (await readFacts(ctx)).filter((f) => f.running).map((f) => f.node)
        if (d.first.length > 0) await startNodes(ctx, d.first, running)
        await startNodes(ctx, d.then, running)
      },
    },
    {
      id: 'heal',
      title: "Heal the partition: restart the minority side's nodes",
      risk: 'change',
      description: 'rabbitmqctl stop_app then start_app on each node outside the majority side: they rejoin it and drop what they saw alone.',
      plan(state, loaded) {
        const d = decision(state)
        if (d?.action !== 'heal') return {summary: 'No partition', commands: [], skip: 'no network partition'}
        return {
          summary: `Restart ${d.restart.join(', ')}; keep ${d.keep.join(', ')}`,
          commands: d.restart.flatMap((n) => [
            {node: n, command: renderCommand(rabbitmqctl({loaded}, n, ['stop_app']))},
            {node: n, command: renderCommand(rabbitmqctl({loaded}, n, ['start_app']))},
          ]),
        }
      },
      async act(ctx) {
        const d = decision(ctx.state) as Extract<RabbitRecovery, {action: 'heal'}>
        await ctx.confirm(`Restart ${d.restart.join(', ')} (the minority side)? Messages published to them alone during the partition are dropped.`)
        for (const n of d.restart) {
          await mustRun(ctx, n, rabbitmqctl(ctx, n, ['stop_app']), 'stop_app', 120_000)
          await mustRun(ctx, n, rabbitmqctl(ctx, n, ['start_app']), 'start_app', 300_000)
        }
      },
    },
    {
      id: 'verify',
      title: 'Every node running, clustered, no partition, no alarm',
      risk: 'read',
      description: 'Waits until the rabbitmq check passes on every node not lost for good; names a lost one with how to replace it.',
      plan: () => ({summary: 'Wait for the whole cluster', commands: []}),
      async verify(ctx) {
        if (ctx.dryRun) return
        const started = Date.now()
        for (;;) {
          // A node lost for good (after --force-boot) is not waited for: it must be replaced (forget, then join afresh).
          const all = await readFacts(ctx)
          const lost = all.filter((f) => f.lost)
          const findings = judgeRabbitmq(
            ctx.loaded.env,
            all.filter((f) => !f.lost),
          )
          if (findings.every((f) => f.status === 'pass')) {
            ctx.state.lost = lost.map((f) => f.node)
            ctx.state.verified = [
              ...findings.map((f) => `${f.target}: ${f.detail}`),
              ...lost.map(
                (f) =>
                  `${f.node}: lost (${f.lost}); replace it: rabbitmqctl forget_cluster_node ${f.nodeName} on a running node, then start it afresh and join_cluster`,
              ),
            ]
            ctx.report(ctx.state.verified)
            return
          }
          const bad = findings.filter((f) => f.status !== 'pass')
          if (Date.now() - started > SETTLE_TIMEOUT_MS)
            throw new CtlError(`The cluster did not settle: ${bad.map((f) => `${f.target}: ${f.detail}`).join('; ')}`, {
              code: 'rabbitmq.not-settled',
              hint: `ctl check run ${ctx.loaded.env} rabbitmq; the nodes' logs.`,
            })
          ctx.progress(bad[0]!.detail)
          await sleep(2000)
        }
      },
    },
  ],

  summarize: (state) => ({decision: state.decision, lost: state.lost, verified: state.verified}),
}
