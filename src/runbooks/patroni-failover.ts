import {CtlError, ExitCode} from '../lib/errors.js'
import {renderCommand} from '../lib/shell.js'
import {findNode} from '../inventory/load.js'
import {failoverRequest, readRequestReply} from '../patroni/actions.js'
import {startMemberCommand} from './process-control.js'
import {decideFailover, failoverRiskText, type FailoverDecision} from '../patroni/decide.js'
import type {ClusterFacts} from '../patroni/facts.js'
import {buildRestRequest} from '../patroni/rest.js'
import {buildPsql, WRITE_PROBE_SQL} from '../patroni/sql.js'
import {memberNamed, patroniTopology} from '../patroni/topology.js'
import {clusterMembers, factsTable, patroniAccess} from './patroni-common.js'
import {factCommands} from './patroni-switchover.js'
import type {PlannedCommand, Runbook} from './types.js'
import {lastLines} from '../lib/output.js'

export interface PatroniFailoverOptions {
  candidate: string
}

export interface PatroniFailoverState {
  members: string[]
  candidate: string
  facts?: ClusterFacts
  decision?: FailoverDecision
  request?: {at: number; status: number; reply: string; alreadyDone?: boolean}
  promoted?: {afterMs: number; xid: string}
  /** Members that were down (the dead leader above all), restarted with their inventory control command. */
  rejoin?: {member: string; started: boolean; streaming: boolean}[]
}

const PROMOTE_TIMEOUT_MS = 60_000
const REJOIN_TIMEOUT_MS = 120_000

/** Members whose Patroni did not answer when the facts were read (the candidate excluded). */
function downMembers(state: PatroniFailoverState): string[] {
  return (state.facts?.members ?? []).filter((m) => !m.reachable && m.name !== state.candidate).map((m) => m.name)
}

function acceptedDecision(state: PatroniFailoverState): Extract<FailoverDecision, {ok: true}> | undefined {
  return state.decision?.ok ? state.decision : undefined
}

export const patroniFailover: Runbook<PatroniFailoverState, PatroniFailoverOptions> = {
  name: 'patroni-failover',
  summary: 'Promote a chosen replica when the Patroni cluster has no healthy leader, after saying what may be lost.',
  description: [
    'Reads the cluster (/cluster, /patroni; pg_stat_replication when a leader answers). Refuses while a healthy leader',
    "exists (use patroni-switchover) and when the candidate is not a running replica. Shows the candidate's lag: the",
    'transactions the dead leader had that the candidate lacks are lost. Asks (DATA RISK), POST /failover {candidate},',
    'waits until the candidate accepts a write, then starts the members that are down (the old leader) with their',
    'inventory control command so they rejoin as replicas (Patroni rewinds them), and waits until they stream.',
  ].join('\n'),
  needs: 'databases.patroni: scope, members (node, name, restPort, pgPort, control to restart the old leader), user/password (secret ref)',

  setup({loaded, options}) {
    const members = clusterMembers(loaded)
    if (!options.candidate)
      throw new CtlError('patroni-failover needs --candidate <member>', {exitCode: ExitCode.cannotRun, hint: `Members: ${members.join(', ')}`})
    if (!members.includes(options.candidate)) {
      throw new CtlError(`No Patroni member named "${options.candidate}"`, {
        exitCode: ExitCode.cannotRun,
        code: 'patroni.unknown-member',
        hint: `Members: ${members.join(', ')}`,
      })
    }
    return {members, candidate: options.candidate}
  },

  steps: [
    {
      id: 'facts',
      title: 'Read the cluster',
      risk: 'read',
      description: 'GET /patroni on every member, GET /cluster from one that answers, pg_stat_replication when a leader answers.',
      plan: (state, loaded) => ({summary: `Read ${state.members.join(', ')}`, commands: factCommands(loaded, state.facts?.leader)}),
      async act(ctx) {
        ctx.state.facts = await patroniAccess(ctx).facts()
        ctx.report(factsTable(ctx.state.facts))
      },
      async recheck(ctx) {
        const facts = await patroniAccess(ctx).facts()
        ctx.state.facts = facts
        ctx.report(['Re-checked on resume:', ...factsTable(facts)])
        if (facts.leaderHealthy && facts.leader !== ctx.state.candidate) {
          throw new CtlError(`${facts.leader} became a healthy leader since the run started`, {
            exitCode: ExitCode.cannotRun,
            code: 'patroni.leader-healthy',
            hint: 'No failover is needed now; use patroni-switchover to move the leader.',
          })
        }
      },
    },
    {
      id: 'decide',
      title: 'Check that a failover is needed and what it may lose',
      risk: 'read',
      description: "No healthy leader, candidate running and not nofailover. The loss is the candidate's lag behind the last leader position Patroni knows.",
      plan: (state) => ({summary: `Judge ${state.candidate} as the new leader`, commands: []}),
      async act(ctx) {
        const facts = ctx.state.facts!
        if (facts.leaderHealthy && facts.leader === ctx.state.candidate) {
          ctx.report([`${ctx.state.candidate} is already the healthy leader (Patroni failed over by itself).`])
          ctx.finishEarly(`Nothing to do: ${ctx.state.candidate} already leads ${facts.scope}.`)
          return
        }
        const decision = decideFailover(facts, ctx.state.candidate)
        ctx.state.decision = decision
        if (!decision.ok) throw new CtlError(`Failover refused: ${decision.reason}`, {exitCode: ExitCode.cannotRun, code: decision.code, hint: decision.hint})
        ctx.report([failoverRiskText(decision)])
      },
    },
    {
      id: 'failover',
      title: 'Fail over (POST /failover), wait for a writable leader',
      risk: 'data-risk',
      description: "POST /failover {candidate} to the candidate's API (Patroni answers in plain text), then waits until the candidate accepts a write.",
      confirmation: (state) => {
        const d = acceptedDecision(state)
        return `${d ? failoverRiskText(d) : `Promote ${state.candidate}.`} Go ahead?`
      },
      plan(state, loaded) {
        const topology = patroniTopology(loaded)
        const c = memberNamed(topology, state.candidate)
        const commands: PlannedCommand[] = [
          {
            node: c.node,
            command: renderCommand(buildRestRequest(c, failoverRequest(state.candidate))),
            note: `body on stdin: ${JSON.stringify(failoverRequest(state.candidate).body)}`,
          },
          {
            node: c.node,
            command: renderCommand(buildPsql({node: c.node, host: c.address, port: c.pgPort, user: topology.user, database: topology.database})),
            note: `repeated until it succeeds; password on stdin, then: ${WRITE_PROBE_SQL}`,
          },
        ]
        return {summary: `Promote ${state.candidate}`, commands}
      },
      async act(ctx) {
        const access = patroniAccess(ctx)
        const candidate = ctx.state.candidate
        if (ctx.state.request) {
          const now = await access.facts()
          if (now.leader === candidate) {
            ctx.report([`${candidate} is already the leader: the failover was done before the run stopped.`])
            ctx.state.request = {...ctx.state.request, alreadyDone: true}
            return
          }
        }
        const at = Date.now()
        const reply = await access.request(candidate, failoverRequest(candidate))
        const outcome = readRequestReply(reply)
        ctx.state.request = {at, status: reply.status, reply: outcome.message}
        ctx.report([`Patroni answered (HTTP ${reply.status || 'none'}): ${outcome.message}`])
        if (outcome.kind === 'refused') {
          throw new CtlError(`Patroni refused the failover: ${outcome.message}`, {
            host: access.member(candidate).node,
            exitCode: ExitCode.cannotRun,
            code: 'patroni.failover-refused',
            hint: 'Read the cluster again (--dry-run) and pick another candidate.',
          })
        }
      },
      async verify(ctx) {
        const {probe, at} = await patroniAccess(ctx).waitForWritableLeader(ctx.state.candidate, PROMOTE_TIMEOUT_MS, (t) => ctx.progress(t), 'failover')
        const afterMs = at - (ctx.state.request?.at ?? at)
        ctx.state.promoted = {afterMs, xid: probe.xid}
        ctx.report([`${ctx.state.candidate} is the leader and accepted a write (xid ${probe.xid}) ${(afterMs / 1000).toFixed(1)} s after the request.`])
      },
    },
    {
      id: 'rejoin-stopped-members',
      title: 'Start the members that are down so they rejoin as replicas',
      risk: 'change',
      description:
        'Runs the inventory control `start` of each member whose Patroni did not answer (the old leader above all; Patroni rewinds it onto the new timeline) and waits until it streams from the new leader. Members without control in the inventory are left to the operator.',
      plan(state, loaded) {
        const down = downMembers(state)
        if (down.length === 0) return {summary: 'Every member runs', commands: [], skip: 'no member is down'}
        const section = loaded.inventory.databases.patroni
        const commands = down.flatMap((name) => {
          const member = section?.members.find((m) => m.name === name)
          return member?.control ? [{node: member.node, command: renderCommand(startMemberCommand(member.control, findNode(loaded, member.node)))}] : []
        })
        if (commands.length === 0)
          return {
            summary: `Start ${down.join(', ')} by hand`,
            commands: [],
            skip: `${down.join(', ')} ha(s) no control in the inventory: start Patroni there by hand`,
          }
        return {summary: `Start ${down.join(', ')} and wait until they stream from ${state.candidate}`, commands}
      },
      async act(ctx) {
        const section = ctx.loaded.inventory.databases.patroni!
        const started: string[] = []
        for (const name of downMembers(ctx.state)) {
          const member = section.members.find((m) => m.name === name)
          if (!member?.control) continue
          const r = await ctx.run(member.node, startMemberCommand(member.control, findNode(ctx.loaded, member.node)), {timeoutMs: 60_000})
          ctx.state.rejoin = [...(ctx.state.rejoin ?? []).filter((x) => x.member !== name), {member: name, started: r.code === 0, streaming: false}]
          if (r.code !== 0) {
            throw new CtlError(`Could not start ${name} on ${member.node} (exit ${r.code})`, {
              host: member.node,
              code: 'patroni.start-failed',
              hint: `${lastLines(r, 3, ' ')}. The new leader ${ctx.state.candidate} is writable; bring ${name} back by hand.`,
            })
          }
          started.push(name)
        }
        const facts = await patroniAccess(ctx).waitForStreaming(started, REJOIN_TIMEOUT_MS, (t) => ctx.progress(t), 'rejoin-stopped-members')
        ctx.state.rejoin = (ctx.state.rejoin ?? []).map((x) => ({...x, streaming: facts.members.find((m) => m.name === x.member)?.streaming ?? false}))
        ctx.state.facts = facts
        ctx.report(factsTable(facts))
      },
    },
  ],

  summarize(state) {
    const d = acceptedDecision(state)
    return {
      leader: state.promoted ? state.candidate : state.facts?.leader,
      candidate: state.candidate,
      deadLeader: d?.deadLeader,
      mayHaveLostBytes: d?.mayLoseBytes,
      patroniReply: state.request?.reply,
      writableAfterMs: state.promoted?.afterMs,
      rejoin: state.rejoin,
    }
  },
}
