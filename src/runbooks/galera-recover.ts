import {CtlError, ExitCode} from '../lib/errors.js'
import {renderCommand} from '../lib/shell.js'
import {findNode} from '../inventory/load.js'
import {GaleraAccess, GaleraCommands, galeraCluster} from '../galera/cluster.js'
import {NEW_CLUSTER_FLAG, WSREP_STATUS_SQL, setSafeToBootstrapCommand, startPositionFlag, takesStartArguments, wsrepRecoverCommand} from '../galera/commands.js'
import {decideRecovery, describeDecision, type RecoveryDecision} from '../galera/decide.js'
import {formatPosition, isPrimary, knownPosition, needsPositionRecovery, type NodeFacts} from '../galera/facts.js'
import {requireVerified, verificationReport, verifyGalera, type GaleraVerification} from '../galera/verify.js'
import {table} from './render.js'
import type {PlannedCommand, Runbook, StepContext} from './types.js'

export interface GaleraRecoverOptions {
  allowUnreachable: boolean
}

export interface GaleraRecoverState {
  members: string[]
  allowUnreachable: boolean
  facts: NodeFacts[]
  decision?: RecoveryDecision
  /** The cluster uuid before recovery: it must be the same after. */
  originalUuid?: string
  stopped: string[]
  bootstrapped?: string
  joined: string[]
  verification?: GaleraVerification
}

type Ctx = StepContext<GaleraRecoverState>

function access(ctx: Ctx): GaleraAccess {
  return new GaleraAccess(ctx.loaded, ctx)
}

export function factsTable(facts: readonly NodeFacts[]): string[] {
  return table(
    ['NODE', 'REACHABLE', 'MARIADBD', 'CLUSTER', 'SIZE', 'STATE', 'GRASTATE (uuid:seqno, safe)', 'RECOVERED', 'POSITION'],
    facts.map((f) => [
      f.node,
      f.reachable ? 'yes' : `NO: ${f.error ?? ''}`,
      f.reachable ? (f.running ? 'running' : 'stopped') : '?',
      f.status?.clusterStatus ?? (f.sqlError ? `? (${f.sqlError})` : '-'),
      f.status ? String(f.status.clusterSize) : '-',
      f.status?.localState ?? '-',
      f.grastate ? `${f.grastate.uuid}:${f.grastate.seqno}, safe ${f.grastate.safeToBootstrap ? 1 : 0}` : f.reachable ? 'none' : '?',
      f.recovered ? String(f.recovered.seqno) : '-',
      f.reachable ? formatPosition(knownPosition(f)) : 'unknown',
    ]),
  )
}

/** Commands a step will run, for its plan: the same builders act uses, without any secret. */
function plannedFor(loaded: Ctx['loaded'], build: (a: GaleraCommands) => PlannedCommand[]): PlannedCommand[] {
  return build(new GaleraCommands(loaded))
}

function decisionOrThrow(state: GaleraRecoverState): RecoveryDecision & {action: 'none' | 'rejoin' | 'bootstrap'} {
  const d = state.decision
  if (!d) throw new CtlError('No decision yet', {exitCode: ExitCode.cannotRun})
  if (d.action === 'refuse') throw new CtlError(`Refusing to recover: ${d.reason}`, {exitCode: ExitCode.cannotRun, code: d.code, hint: d.hint})
  return d
}

/** Start arguments for a member: the new-cluster flag for the bootstrap node, its start position for all. */
function startArguments(ctx: {state: GaleraRecoverState}, access: GaleraCommands, node: string, bootstrap: boolean): string[] {
  const d = ctx.state.decision
  const position = d && d.action !== 'none' && d.action !== 'refuse' ? d.startPositions[node] : undefined
  const args = bootstrap ? [NEW_CLUSTER_FLAG] : []
  // systemd units recover their own position (galera_recovery); commands take it as an argument.
  if (position && takesStartArguments(access.member(node))) args.push(startPositionFlag(position))
  return args
}

export const galeraRecover: Runbook<GaleraRecoverState, GaleraRecoverOptions> = {
  name: 'galera-recover',
  summary: 'Bring a MariaDB Galera cluster back after a crash, a full shutdown or a lost node, keeping every committed row.',
  description: [
    'Reads every member (mariadbd running, wsrep status, grastate.dat; `--wsrep-recover` where seqno is -1), shows the facts',
    'and the decision, then: if a Primary component survives, only restarts the others so they rejoin it; otherwise',
    'bootstraps the member marked safe_to_bootstrap (else the highest seqno, ties by inventory order) with its recovered',
    'start position so the cluster uuid and history are kept and joiners catch up by IST, then starts the others one at a',
    'time waiting for Synced, and verifies. Refuses when a member cannot be reached (unless --allow-unreachable), when',
    'members disagree on the cluster uuid, or when a member that would rejoin a Primary component is ahead of it (a state',
    'transfer would discard its transactions). Members stuck in non-Primary (they ignore SIGTERM) are stopped first.',
  ].join('\n'),
  needs: 'databases.galera: members with node, datadir, socket, defaultsFile and control (start/stop/kill/status); user and password (secret ref)',

  setup({loaded, options}) {
    const cluster = galeraCluster(loaded)
    return {members: cluster.members.map((m) => m.node), allowUnreachable: Boolean(options.allowUnreachable), facts: [], stopped: [], joined: []}
  },

  steps: [
    {
      id: 'gather-facts',
      title: 'Read every member',
      risk: 'read',
      description:
        'Per member: is mariadbd running (control.status), wsrep_cluster_status/size/local_state_comment/cluster_state_uuid/last_committed, grastate.dat.',
      plan: (state, loaded) => ({
        summary: `Read the state of ${state.members.join(', ')}`,
        commands: plannedFor(loaded, (a) =>
          state.members.flatMap((node) => [
            {node, command: renderCommand(a.controlCommand(node, 'status'))},
            {node, command: renderCommand(a.sqlCommand(node, WSREP_STATUS_SQL)), note: 'when running; password on stdin'},
            {node, command: `cat ${a.member(node).datadir}/grastate.dat`},
          ]),
        ),
      }),
      async act(ctx) {
        ctx.state.facts = await access(ctx).allFacts(ctx.state.facts)
        ctx.report(factsTable(ctx.state.facts))
      },
      async recheck(ctx) {
        ctx.state.facts = await access(ctx).allFacts(ctx.state.facts)
        ctx.report(['Re-checked on resume:', ...factsTable(ctx.state.facts)])
      },
    },
    {
      id: 'recover-positions',
      title: 'Recover the last committed position of stopped members (--wsrep-recover)',
      risk: 'read',
      description:
        'Where grastate.dat says seqno -1 (crash), runs `mariadbd --wsrep-recover` to read the position from InnoDB. It starts no server, joins nothing and leaves grastate.dat as it is, so it also runs under --dry-run.',
      plan(state, loaded) {
        const todo = state.facts.filter((f) => needsPositionRecovery(f))
        if (todo.length === 0) return {summary: 'Every stopped member has a known position', commands: [], skip: 'no stopped member has seqno -1'}
        return {
          summary: `Recover positions of ${todo.map((f) => f.node).join(', ')}`,
          commands: plannedFor(loaded, (a) => todo.map((f) => ({node: f.node, command: renderCommand(wsrepRecoverCommand(a.member(f.node)))}))),
        }
      },
      async act(ctx) {
        const a = access(ctx)
        for (const f of ctx.state.facts.filter((x) => needsPositionRecovery(x))) {
          f.recovered = await a.recoverPosition(f.node)
          ctx.progress(`${f.node}: recovered ${formatPosition(f.recovered)}`)
        }
        ctx.report(factsTable(ctx.state.facts))
      },
    },
    {
      id: 'decide',
      title: 'Decide: rejoin, bootstrap, or refuse',
      risk: 'read',
      description:
        'A surviving Primary component → no bootstrap, the others rejoin, but only members at or behind its position (or fresh): a member ahead of it, of unknown position or from another cluster uuid is refused, naming both positions. Else bootstrap safe_to_bootstrap: 1, else the highest seqno (ties: inventory order). Refuses on an unreachable member (unless --allow-unreachable, which asks, again on --resume) or differing cluster uuids.',
      plan: (state) => ({summary: state.decision ? describeDecision(state.decision)[0]! : 'Decide from the facts', commands: []}),
      async act(ctx) {
        const decision = decideRecovery(ctx.state.facts, {allowUnreachable: ctx.state.allowUnreachable})
        ctx.state.decision = decision
        ctx.report(describeDecision(decision))
        const d = decisionOrThrow(ctx.state)
        ctx.state.originalUuid ??= d.clusterUuid
        if (d.action === 'none') {
          ctx.finishEarly(`Nothing to do: ${d.reason}.`)
          return
        }
        if (d.skipped.length > 0) await ctx.confirm(skipQuestion(d.skipped))
      },
      async recheck(ctx) {
        // After an interruption the cluster may be part-way: decide again on the live facts (a
        // bootstrapped node is now Primary → the rest rejoin it), keeping the original uuid.
        const decision = decideRecovery(ctx.state.facts, {allowUnreachable: ctx.state.allowUnreachable})
        ctx.state.decision = decision
        ctx.report(['Decision on resume:', ...describeDecision(decision)])
        const d = decisionOrThrow(ctx.state)
        if (ctx.state.originalUuid && d.clusterUuid && d.clusterUuid !== ctx.state.originalUuid) {
          throw new CtlError(`The cluster uuid changed since the run started (${ctx.state.originalUuid} → ${d.clusterUuid})`, {
            exitCode: ExitCode.cannotRun,
            code: 'galera.uuid-changed',
            hint: 'Someone else acted on the cluster: look at it with a new run (without --resume).',
          })
        }
        // The first run's answer does not carry over to a resumed one.
        if (d.action !== 'none' && d.skipped.length > 0) await ctx.confirm(skipQuestion(d.skipped))
      },
    },
    {
      id: 'stop-stuck',
      title: 'Stop members running outside a Primary component',
      risk: 'data-risk',
      description:
        'Members still running but not Primary (stuck after a staggered crash) ignore SIGTERM: stop (control.stop), and kill (control.kill) if still running. A non-Primary member cannot commit, so killing it loses nothing committed. Their position is then recovered again.',
      confirmation: (state) => `Stop ${stopList(state).join(', ')} (running, not Primary; killed if they ignore SIGTERM)?`,
      plan(state, loaded) {
        const nodes = stopList(state)
        if (nodes.length === 0) return {summary: 'No member runs outside a Primary component', commands: [], skip: 'nothing to stop'}
        return {
          summary: `Stop ${nodes.join(', ')}, then recover their positions`,
          commands: plannedFor(loaded, (a) =>
            nodes.flatMap((node) => [
              {node, command: renderCommand(a.controlCommand(node, 'stop'))},
              {
                node,
                command: renderCommand(a.controlCommand(node, 'kill')),
                note: 'only if it still runs after the stop (non-Primary: nothing committed is lost)',
              },
              {node, command: renderCommand(wsrepRecoverCommand(a.member(node)))},
            ]),
          ),
        }
      },
      async act(ctx) {
        const a = access(ctx)
        for (const node of stopList(ctx.state)) {
          // Re-read: never kill a member that became Primary meanwhile.
          const live = await a.facts(node)
          if (isPrimary(live))
            throw new CtlError(`${node} is Primary now: not stopping it`, {
              host: node,
              code: 'galera.became-primary',
              hint: 'The cluster changed under us: run again (without --resume) to decide on fresh facts.',
            })
          await a.stopSafely(node)
          if (!ctx.state.stopped.includes(node)) ctx.state.stopped.push(node)
        }
        // Positions from InnoDB now that they are stopped, then decide again on the new facts.
        ctx.state.facts = await a.allFacts(ctx.state.facts)
        for (const f of ctx.state.facts.filter((x) => needsPositionRecovery(x))) f.recovered = await a.recoverPosition(f.node)
        ctx.report(factsTable(ctx.state.facts))
        ctx.state.decision = decideRecovery(ctx.state.facts, {allowUnreachable: ctx.state.allowUnreachable})
        ctx.report(describeDecision(ctx.state.decision))
        decisionOrThrow(ctx.state)
      },
    },
    {
      id: 'bootstrap',
      title: 'Bootstrap a new Primary component from the most advanced member',
      risk: 'data-risk',
      description:
        'Sets safe_to_bootstrap: 1 in grastate.dat of the chosen member only, starts it with --wsrep-new-cluster and its recovered --wsrep_start_position, waits for Primary/Synced and checks the cluster uuid is unchanged.',
      confirmation(state) {
        const d = state.decision
        if (d?.action !== 'bootstrap') return 'Bootstrap?'
        return `Bootstrap the cluster from ${d.bootstrapNode} at ${formatPosition(d.startPositions[d.bootstrapNode])}? Writes any other member committed after that position would be lost (none should exist: it is the most advanced known).`
      },
      plan(state, loaded) {
        const d = state.decision
        if (d?.action !== 'bootstrap')
          return {summary: 'No bootstrap', commands: [], skip: d?.action === 'rejoin' ? 'a Primary component exists: no bootstrap' : 'no bootstrap decided'}
        const node = d.bootstrapNode
        return {
          summary: `Bootstrap ${node} at ${formatPosition(d.startPositions[node])}`,
          commands: plannedFor(loaded, (a) => [
            {node, command: renderCommand(setSafeToBootstrapCommand(a.member(node), findNode(a.loaded, node)))},
            {node, command: renderCommand(a.controlCommand(node, 'start', startArguments({state}, a, node, true)))},
          ]),
        }
      },
      async act(ctx) {
        const d = decisionOrThrow(ctx.state)
        if (d.action !== 'bootstrap') return
        const a = access(ctx)
        const node = d.bootstrapNode
        // Safe to run again on resume: a member already Primary is left running.
        const live = await a.facts(node)
        if (!isPrimary(live)) {
          if (live.running)
            throw new CtlError(`${node} runs but is not Primary`, {
              host: node,
              code: 'galera.unexpected-state',
              hint: 'Run again without --resume to decide on fresh facts.',
            })
          await ctx.run(node, setSafeToBootstrapCommand(a.member(node), findNode(ctx.loaded, node)), {check: true, timeoutMs: 30_000})
          await a.start(node, startArguments(ctx, a, node, true))
        }
        const status = await a.waitForSynced(node)
        ctx.state.bootstrapped = node
        ctx.progress(`${node}: Primary, Synced, uuid ${status.clusterUuid}`)
        if (ctx.state.originalUuid && status.clusterUuid !== ctx.state.originalUuid) {
          throw new CtlError(`${node} bootstrapped a NEW cluster uuid ${status.clusterUuid} (was ${ctx.state.originalUuid}): history was not kept`, {
            host: node,
            code: 'galera.uuid-changed',
            hint: 'Joiners will need a full state transfer. Check that the start position reached mariadbd (its error log).',
          })
        }
      },
    },
    {
      id: 'rejoin',
      title: 'Start the other members one at a time, waiting for Synced',
      risk: 'change',
      description:
        'Starts each remaining member with its recovered --wsrep_start_position (so it catches up by IST) and waits until it is Synced and the cluster has grown, before the next.',
      plan(state, loaded) {
        const d = state.decision
        if (!d || d.action === 'none' || d.action === 'refuse') return {summary: 'Nothing to start', commands: [], skip: 'no member to start'}
        const nodes = d.start
        if (nodes.length === 0) return {summary: 'Nothing to start', commands: [], skip: 'every reachable member runs in the Primary component'}
        return {
          summary: `Start ${nodes.join(', ')}, one at a time`,
          commands: plannedFor(loaded, (a) =>
            nodes.map((node) => ({node, command: renderCommand(a.controlCommand(node, 'start', startArguments({state}, a, node, false)))})),
          ),
        }
      },
      async act(ctx) {
        const d = decisionOrThrow(ctx.state)
        if (d.action === 'none') return
        const a = access(ctx)
        let size = d.action === 'bootstrap' ? 1 : d.primary.length
        // Primary members still catching up (Joined, Donor) must be Synced before more join.
        if (d.action === 'rejoin') for (const node of d.primary) await a.waitForSynced(node)
        for (const node of d.start) {
          const live = await a.facts(node)
          // A member already running (joining, or started before an interruption) is only waited for.
          if (!live.running) await a.start(node, startArguments(ctx, a, node, false))
          size++
          const status = await a.waitForSynced(node, {size})
          if (!ctx.state.joined.includes(node)) ctx.state.joined.push(node)
          ctx.progress(`${node}: Synced, cluster size ${status.clusterSize}`)
        }
      },
    },
    {
      id: 'verify',
      title: 'Verify: Primary, full size, all Synced, same uuid, a write read elsewhere',
      risk: 'change',
      description:
        "Reads every member's wsrep status; writes a probe row (database databases.galera.verifyDatabase) on one member and reads it on another with wsrep_sync_wait.",
      plan: (state) => ({summary: `Check ${state.members.join(', ')} and write/read a probe row`, commands: []}),
      async act(ctx) {
        const d = decisionOrThrow(ctx.state)
        const nodes = ctx.state.members.filter((n) => !(d.action !== 'none' && d.skipped.includes(n)))
        const v = await verifyGalera(access(ctx), nodes, ctx.state.originalUuid)
        ctx.state.verification = v
        ctx.report(verificationReport(v))
        requireVerified(v, ctx.state.originalUuid)
      },
    },
  ],

  summarize: (state) => ({
    facts: state.facts,
    decision: state.decision,
    originalUuid: state.originalUuid,
    stopped: state.stopped,
    bootstrapped: state.bootstrapped,
    joined: state.joined,
    verification: state.verification,
  }),
}

function skipQuestion(skipped: readonly string[]): string {
  return `Go on WITHOUT ${skipped.join(', ')} (unreachable)? Its position is unknown: if it holds writes the others lack, they are lost when it later rejoins and is overwritten by a state transfer.`
}

function stopList(state: GaleraRecoverState): string[] {
  const d = state.decision
  return d && (d.action === 'rejoin' || d.action === 'bootstrap') ? d.stop : []
}
