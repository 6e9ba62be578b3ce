import {CtlError, ExitCode} from '../lib/errors.js'
import {chooseOne} from '../lib/prompt.js'
import {renderCommand} from '../lib/shell.js'
import type {LoadedInventory} from '../inventory/load.js'
import {readRequestReply, switchoverRequest, type PatroniAccess} from '../patroni/actions.js'
import {pausePgbouncer, pgbouncerSettings, resumePgbouncer} from '../patroni/pgbouncer.js'
import {decideSwitchover, type CandidateVerdict} from '../patroni/decide.js'
import {formatBytes, type ClusterFacts} from '../patroni/facts.js'
import {buildRestRequest} from '../patroni/rest.js'
import {buildPsql, REPLICATION_SQL, WRITE_PROBE_SQL} from '../patroni/sql.js'
import {memberNamed, patroniTopology, type RunOn} from '../patroni/topology.js'
import {clusterMembers, factsTable, patroniAccess} from './patroni-common.js'
import {table} from './render.js'
import type {PlannedCommand, Runbook, StepContext} from './types.js'

export interface PatroniSwitchoverOptions {
  candidate?: string
  /** ISO 8601 with a timezone: Patroni performs the switchover then. */
  scheduledAt?: string
}

export interface PatroniSwitchoverState {
  members: string[]
  requestedCandidate?: string
  scheduledAt?: string
  facts?: ClusterFacts
  verdicts: CandidateVerdict[]
  leader?: string
  candidate?: string
  /** When the switchover was requested (epoch ms) and what Patroni answered. */
  request?: {at: number; status: number; reply: string; alreadyDone?: boolean}
  scheduled?: boolean
  /** The new leader accepted a write this long after the request. */
  writable?: {afterMs: number; xid: string}
  followers?: {member: string; streaming: boolean; replayLagBytes: number | null}[]
  endpoint?: {host: string; port: number; server: string | null; reachesNewLeader: boolean; afterMs: number}
  /** PgBouncer held its clients this long (PAUSE to RESUME) around the switch. */
  pgbouncer?: {pausedMs?: number}
}

type Ctx = StepContext<PatroniSwitchoverState>

const WRITABLE_TIMEOUT_MS = 60_000
const FOLLOW_TIMEOUT_MS = 90_000
const ENDPOINT_TIMEOUT_MS = 30_000

/** Scheduled switchovers need an unambiguous instant: ISO 8601 with Z or an offset, in the future. */
export function parseScheduledAt(value: string, now = Date.now()): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new CtlError(`--scheduled-at "${value}" is not an ISO 8601 time with a timezone`, {
      exitCode: ExitCode.cannotRun,
      code: 'patroni.bad-schedule',
      hint: 'e.g. --scheduled-at 2030-01-31T03:00:00+01:00 or ...T02:00:00Z',
    })
  }
  if (Date.parse(value) <= now) {
    throw new CtlError(`--scheduled-at ${value} is in the past`, {
      exitCode: ExitCode.cannotRun,
      code: 'patroni.bad-schedule',
      hint: 'Leave --scheduled-at out to switch over now.',
    })
  }
  return value
}

/** The commands that read the facts (shown by plans). */
export function factCommands(loaded: LoadedInventory, leader?: string): PlannedCommand[] {
  const topology = patroniTopology(loaded)
  const commands: PlannedCommand[] = topology.members.map((m) => ({
    node: m.node,
    command: renderCommand(buildRestRequest(m, {method: 'GET', path: '/patroni', timeoutSeconds: 5})),
  }))
  const first = topology.members[0]!
  commands.push({
    node: first.node,
    command: renderCommand(buildRestRequest(first, {method: 'GET', path: '/cluster', timeoutSeconds: 5})),
    note: 'on the first member that answers',
  })
  const at = leader ? memberNamed(topology, leader) : first
  commands.push({
    node: at.node,
    command: renderCommand(buildPsql({node: at.node, host: at.address, port: at.pgPort, user: topology.user, database: topology.database})),
    note: `on the leader; password on stdin, then: ${REPLICATION_SQL.split('\n')[0]} ...`,
  })
  return commands
}

function verdictLines(verdicts: CandidateVerdict[], maxLagBytes: number): string[] {
  return [
    `Candidates (streaming in pg_stat_replication, replay lag at most ${formatBytes(maxLagBytes)}):`,
    ...table(
      ['replica', 'eligible', 'replay lag', 'why not'],
      verdicts.map((v) => [v.member, v.eligible ? 'yes' : 'no', formatBytes(v.replayLagBytes), v.reason ?? '']),
    ),
  ]
}

async function readFacts(ctx: Ctx): Promise<ClusterFacts> {
  const facts = await patroniAccess(ctx).facts()
  ctx.state.facts = facts
  return facts
}

/** POST /switchover to the leader's API and read Patroni's plain-text answer (refused: the run stops, changing nothing). */
async function requestSwitchover(ctx: Ctx, access: PatroniAccess, scope: string): Promise<void> {
  const {leader, candidate, scheduledAt} = ctx.state
  const at = Date.now()
  const reply = await access.request(leader!, switchoverRequest(leader!, candidate!, scheduledAt))
  const outcome = readRequestReply(reply)
  ctx.state.request = {at, status: reply.status, reply: outcome.message}
  ctx.report([`Patroni answered (HTTP ${reply.status || 'none'}): ${outcome.message}`])
  if (outcome.kind === 'refused') {
    throw new CtlError(`Patroni refused the switchover: ${outcome.message}`, {
      host: access.member(leader!).node,
      exitCode: ExitCode.cannotRun,
      code: 'patroni.switchover-refused',
      hint: 'The cluster changed since the facts were read: run again to see it.',
    })
  }
  if (outcome.kind === 'scheduled') {
    ctx.state.scheduled = true
    ctx.finishEarly(`Switchover scheduled at ${scheduledAt}: Patroni performs it then. Cancel with: patronictl flush ${scope} switchover`)
  }
}

/** Retries a write through the write endpoint until it lands on `leaderName` (the proxy's health checks catch up). */
async function waitForEndpoint(ctx: Ctx, access: PatroniAccess, leaderName: string): Promise<void> {
  const endpoint = ctx.loaded.inventory.databases.patroni!.writeEndpoint!
  const leader = access.member(leaderName)
  const started = Date.now()
  let last: string
  for (;;) {
    try {
      const probe = await access.probeEndpoint(leader.node, endpoint, 'write-endpoint')
      const reaches = !probe.recovery && probe.server === leader.address
      ctx.state.endpoint = {host: endpoint.host, port: endpoint.port, server: probe.server, reachesNewLeader: reaches, afterMs: Date.now() - started}
      if (reaches) return
      last = `it reaches ${probe.server ?? 'a local socket'}${probe.recovery ? ' (a replica)' : ''}`
    } catch (error) {
      last = (error as Error).message.split('\n')[0]!
    }
    ctx.progress(`write endpoint ${endpoint.host}:${endpoint.port}: ${last}`)
    if (Date.now() - started > ENDPOINT_TIMEOUT_MS) {
      throw new CtlError(`The write endpoint ${endpoint.host}:${endpoint.port} does not reach the new leader ${leader.name} (${leader.address}): ${last}`, {
        host: leader.node,
        code: 'patroni.endpoint-stale',
        hint: "Check the proxy's health check (HAProxy: option httpchk GET /primary on the REST port; PgBouncer: its host= must follow the leader).",
      })
    }
    await new Promise((r) => setTimeout(r, 1000))
  }
}

const runOnOf =
  (ctx: Ctx): RunOn =>
  (node, command, options) =>
    ctx.run(node, command, options)

export const patroniSwitchover: Runbook<PatroniSwitchoverState, PatroniSwitchoverOptions> = {
  name: 'patroni-switchover',
  summary: 'Move the Patroni leader to a healthy replica, then check that it takes writes and the old leader streams from it.',
  description: [
    "Reads the cluster from Patroni's REST API (/cluster, each member's /patroni) and the leader's pg_stat_replication, shows",
    'every member with role, state, timeline and lag, and lets the operator pick the candidate among healthy replicas only',
    '(--candidate for scripts). Refuses a candidate that is not streaming or lags more than databases.patroni.maxLagBytes,',
    'a paused cluster, or a cluster without a healthy leader (use patroni-failover). Then POST /switchover (asks first),',
    'waits until the new leader accepts a write, until the old leader streams from it again, and, when the inventory names',
    'a writeEndpoint (HAProxy/PgBouncer), until a write through it lands on the new leader. --scheduled-at leaves the',
    'switchover to Patroni at that time.',
  ].join('\n'),
  needs: 'databases.patroni: scope, members (node, name, restPort, pgPort), user/password (secret ref), maxLagBytes, optional writeEndpoint',

  setup({loaded, options}) {
    const members = clusterMembers(loaded)
    if (options.candidate && !members.includes(options.candidate)) {
      throw new CtlError(`No Patroni member named "${options.candidate}"`, {
        exitCode: ExitCode.cannotRun,
        code: 'patroni.unknown-member',
        hint: `Members: ${members.join(', ')}`,
      })
    }
    return {members, requestedCandidate: options.candidate, scheduledAt: options.scheduledAt ? parseScheduledAt(options.scheduledAt) : undefined, verdicts: []}
  },

  steps: [
    {
      id: 'facts',
      title: 'Read the cluster',
      risk: 'read',
      description: "GET /patroni on every member, GET /cluster, and the leader's pg_stat_replication (streaming and replay lag).",
      plan: (state, loaded) => ({
        summary: `Read ${state.members.join(', ')} and the leader's pg_stat_replication`,
        commands: factCommands(loaded, state.facts?.leader),
      }),
      async act(ctx) {
        ctx.report(factsTable(await readFacts(ctx)))
      },
      async recheck(ctx) {
        const facts = await readFacts(ctx)
        ctx.report(['Re-checked on resume:', ...factsTable(facts)])
        const {leader, candidate} = ctx.state
        if (leader && facts.leader !== leader && facts.leader !== candidate) {
          throw new CtlError(`The leader changed since the run started (${leader} → ${facts.leader ?? 'none'})`, {
            exitCode: ExitCode.cannotRun,
            code: 'patroni.leader-changed',
            hint: 'Someone else acted on the cluster: start a new run (without --resume).',
          })
        }
      },
    },
    {
      id: 'choose',
      title: 'Choose and check the candidate',
      risk: 'read',
      description:
        'Refuses a paused cluster, a missing or unhealthy leader, and a candidate that is not streaming or lags more than maxLagBytes. Without --candidate, asks among the healthy replicas.',
      plan: (state) => ({
        summary: state.requestedCandidate ? `Check ${state.requestedCandidate} as the new leader` : 'Pick the new leader among healthy replicas',
        commands: [],
      }),
      async act(ctx) {
        const maxLag = patroniTopology(ctx.loaded).maxLagBytes
        const facts = ctx.state.facts!
        const decision = decideSwitchover(facts, ctx.state.requestedCandidate, maxLag)
        if (decision.ok === false)
          throw new CtlError(`Switchover refused: ${decision.reason}`, {exitCode: ExitCode.cannotRun, code: decision.code, hint: decision.hint})
        if (decision.ok === 'choose') {
          ctx.state.verdicts = decision.choices
          ctx.report(verdictLines(decision.choices, maxLag))
          const eligible = decision.choices.filter((v) => v.eligible)
          if (eligible.length === 0)
            throw new CtlError('Switchover refused: no replica is streaming within the lag limit', {
              exitCode: ExitCode.cannotRun,
              code: 'patroni.no-candidate',
              hint: 'Fix replication first (see the table above).',
            })
          if (ctx.dryRun) {
            ctx.report([`Dry run: would ask which of ${eligible.map((v) => v.member).join(', ')} takes over (or pass --candidate).`])
            ctx.state.leader = decision.leader
            return
          }
          const chosen = await chooseOne(
            `New leader for ${facts.scope} (now ${decision.leader})`,
            eligible.map((v) => ({name: `${v.member} (replay lag ${formatBytes(v.replayLagBytes)})`, value: v.member})),
            '--candidate <member>',
          )
          const again = decideSwitchover(facts, chosen, maxLag)
          if (again.ok !== true) throw new CtlError(`Switchover refused: ${again.ok === false ? again.reason : 'no candidate'}`, {exitCode: ExitCode.cannotRun})
          ctx.state.leader = again.leader
          ctx.state.candidate = again.candidate
        } else {
          ctx.state.leader = decision.leader
          ctx.state.candidate = decision.candidate
          ctx.state.verdicts = []
        }
        ctx.report([
          `Switchover ${ctx.state.leader} → ${ctx.state.candidate}${ctx.state.scheduledAt ? ` scheduled at ${ctx.state.scheduledAt}` : ''}: allowed.`,
        ])
      },
    },
    {
      id: 'switchover',
      title: 'Switch over (POST /switchover), wait for a writable new leader',
      risk: 'change',
      description:
        "Asks, then POST /switchover {leader, candidate[, scheduled_at]} to the leader's API. Patroni answers in plain text. Then waits until the candidate is the leader and accepts a write (a transaction id is assigned; no object is created).",
      plan(state, loaded) {
        const topology = patroniTopology(loaded)
        if (!state.leader) return {summary: 'Needs a decision first', commands: []}
        const candidate = state.candidate ?? '<candidate>'
        const leader = memberNamed(topology, state.leader)
        const commands: PlannedCommand[] = [
          {
            node: leader.node,
            command: renderCommand(buildRestRequest(leader, switchoverRequest(state.leader, candidate, state.scheduledAt))),
            note: `body on stdin: ${JSON.stringify(switchoverRequest(state.leader, candidate, state.scheduledAt).body)}`,
          },
        ]
        if (state.candidate && !state.scheduledAt) {
          const c = memberNamed(topology, state.candidate)
          commands.push({
            node: c.node,
            command: renderCommand(buildPsql({node: c.node, host: c.address, port: c.pgPort, user: topology.user, database: topology.database})),
            note: `repeated until it succeeds; password on stdin, then: ${WRITE_PROBE_SQL}`,
          })
        }
        const bouncer = state.scheduledAt ? undefined : loaded.inventory.databases.patroni?.pgbouncer
        if (bouncer) {
          const admin = pgbouncerSettings(loaded)!.admin
          const psql = renderCommand(buildPsql(admin))
          commands.unshift({node: admin.node, command: psql, note: 'password on stdin, then: PAUSE; (waits for open transactions to end)'})
          commands.push({node: admin.node, command: psql, note: 'once the write endpoint reaches the new leader (and however it ends): RESUME;'})
        }
        return {
          summary: state.scheduledAt
            ? `Schedule the switchover ${state.leader} → ${candidate} at ${state.scheduledAt}`
            : `Switch the leader from ${state.leader} to ${candidate}${bouncer ? `, PgBouncer on ${bouncer.node} paused meanwhile` : ''}`,
          commands,
        }
      },
      async act(ctx) {
        const {leader, candidate, scheduledAt} = ctx.state
        if (!leader || !candidate) throw new CtlError('No candidate chosen', {exitCode: ExitCode.cannotRun, hint: 'Pass --candidate <member>.'})
        const access = patroniAccess(ctx)
        // A resumed run may find the switchover already done.
        const now = await access.facts()
        const bouncer = scheduledAt ? undefined : pgbouncerSettings(ctx.loaded)
        if (!scheduledAt && now.leader === candidate && ctx.state.request) {
          ctx.report([`${candidate} is already the leader: the switchover was done before the run stopped.`])
          ctx.state.request = {...ctx.state.request, alreadyDone: true}
          // A run stopped while PgBouncer held its clients: let them go, once the endpoint reaches the new leader.
          if (bouncer) {
            await waitForEndpoint(ctx, access, candidate).finally(() => resumePgbouncer(runOnOf(ctx), bouncer, 'switchover'))
          }
          return
        }
        await ctx.confirm(
          scheduledAt
            ? `Schedule a switchover of ${now.scope} from ${leader} to ${candidate} at ${scheduledAt}?`
            : `Switch the leader of ${now.scope} from ${leader} to ${candidate} now? ${
                bouncer
                  ? `PgBouncer on ${bouncer.node} holds new queries (after the open transactions end) until the new leader takes writes.`
                  : `Open connections to ${leader} are cut; clients reconnect to the new leader.`
              }`,
        )
        if (!bouncer) return requestSwitchover(ctx, access, now.scope)
        // PgBouncer holds new queries (after the open transactions end) from before the request until
        // the write endpoint behind it reaches the new leader: clients wait instead of failing.
        await pausePgbouncer(runOnOf(ctx), bouncer, 'switchover')
        const pausedAt = Date.now()
        try {
          await requestSwitchover(ctx, access, now.scope)
          await access.waitForWritableLeader(candidate, WRITABLE_TIMEOUT_MS, (t) => ctx.progress(t), 'switchover')
          await waitForEndpoint(ctx, access, candidate)
        } finally {
          await resumePgbouncer(runOnOf(ctx), bouncer, 'switchover')
          ctx.state.pgbouncer = {pausedMs: Date.now() - pausedAt}
          ctx.report([`PgBouncer held its clients for ${((Date.now() - pausedAt) / 1000).toFixed(1)} s (PAUSE to RESUME).`])
        }
      },
      async verify(ctx) {
        if (ctx.state.scheduled) return
        const candidate = ctx.state.candidate!
        const access = patroniAccess(ctx)
        const {probe, at} = await access.waitForWritableLeader(candidate, WRITABLE_TIMEOUT_MS, (t) => ctx.progress(t), 'switchover')
        const afterMs = at - (ctx.state.request?.at ?? at)
        ctx.state.writable = {afterMs, xid: probe.xid}
        ctx.report([`${candidate} is the leader and accepted a write (xid ${probe.xid}) ${(afterMs / 1000).toFixed(1)} s after the request.`])
      },
    },
    {
      id: 'followers',
      title: 'Check that the old leader and the other replicas stream from the new leader',
      risk: 'read',
      description: "Waits until every other member, the old leader first of all, shows as streaming in the new leader's pg_stat_replication.",
      plan(state, loaded) {
        if (!state.writable)
          return {summary: 'After the switchover', commands: [], skip: state.scheduled ? 'the switchover is scheduled for later' : 'runs after the switchover'}
        return {
          summary: `Wait until ${state.members.filter((m) => m !== state.candidate).join(', ')} stream from ${state.candidate}`,
          commands: factCommands(loaded, state.candidate),
        }
      },
      async act(ctx) {
        const others = ctx.state.members.filter((m) => m !== ctx.state.candidate)
        const facts = await patroniAccess(ctx).waitForStreaming(others, FOLLOW_TIMEOUT_MS, (t) => ctx.progress(t), 'followers')
        ctx.state.facts = facts
        ctx.state.followers = others.map((name) => {
          const m = facts.members.find((x) => x.name === name)!
          return {member: name, streaming: m.streaming, replayLagBytes: m.replayLagBytes}
        })
        ctx.report(factsTable(facts))
      },
    },
    {
      id: 'write-endpoint',
      title: 'Check that the write endpoint reaches the new leader',
      risk: 'read',
      description:
        "When databases.patroni.writeEndpoint is set (HAProxy or PgBouncer in front of Patroni): a write through it must land on the new leader (inet_server_addr). Retried while the proxy's health checks catch up.",
      plan(state, loaded) {
        const section = loaded.inventory.databases.patroni
        if (!section?.writeEndpoint) return {summary: 'No write endpoint in the inventory', commands: [], skip: 'databases.patroni.writeEndpoint is not set'}
        if (!state.writable)
          return {summary: 'After the switchover', commands: [], skip: state.scheduled ? 'the switchover is scheduled for later' : 'runs after the switchover'}
        const topology = patroniTopology(loaded)
        const c = memberNamed(topology, state.candidate!)
        const e = section.writeEndpoint
        return {
          summary: `Write through ${e.host}:${e.port} and check it lands on ${c.name} (${c.address})`,
          commands: [
            {
              node: c.node,
              command: renderCommand(buildPsql({node: c.node, host: e.host, port: e.port, user: topology.user, database: topology.database})),
              note: `password on stdin, then: ${WRITE_PROBE_SQL}`,
            },
          ],
        }
      },
      async act(ctx) {
        const endpoint = ctx.loaded.inventory.databases.patroni!.writeEndpoint!
        const access = patroniAccess(ctx)
        await waitForEndpoint(ctx, access, ctx.state.candidate!)
        const leader = access.member(ctx.state.candidate!)
        ctx.report([`A write through ${endpoint.host}:${endpoint.port} landed on ${leader.name} (${leader.address}).`])
      },
    },
  ],

  summarize(state) {
    return {
      pgbouncerPausedMs: state.pgbouncer?.pausedMs,
      leader: state.writable ? state.candidate : state.facts?.leader,
      previousLeader: state.leader,
      candidate: state.candidate,
      scheduledAt: state.scheduledAt,
      patroniReply: state.request?.reply,
      writableAfterMs: state.writable?.afterMs,
      followers: state.followers,
      writeEndpoint: state.endpoint,
      refusedCandidates: state.verdicts.filter((v) => !v.eligible).map((v) => ({member: v.member, reason: v.reason})),
    }
  },
}
