import {clusterUuidsOf, formatPosition, isFreshMember, isPrimary, isSynced, knownPosition, type NodeFacts, type Position} from './facts.js'

/**
 * How to bring a Galera cluster back, decided from the facts of every member (pure: tested on
 * tables of cases). Data matters more than speed: when in doubt, refuse and say why.
 */

export type RecoveryDecision =
  | {action: 'none'; reason: string; clusterUuid: string}
  /** A Primary component exists: never bootstrap, restart the others so they rejoin it. */
  | {
      action: 'rejoin'
      reason: string
      clusterUuid: string
      primary: string[]
      stop: string[]
      start: string[]
      startPositions: Record<string, Position>
      skipped: string[]
    }
  | {
      action: 'bootstrap'
      reason: string
      clusterUuid: string
      bootstrapNode: string
      stop: string[]
      start: string[]
      startPositions: Record<string, Position>
      skipped: string[]
    }
  | {
      action: 'refuse'
      code: 'galera.unreachable' | 'galera.uuid-mismatch' | 'galera.position-unknown' | 'galera.member-ahead' | 'galera.split-brain' | 'galera.no-member'
      reason: string
      hint: string
    }

export interface DecideOptions {
  /** Go on without the unreachable members (their data may be the most recent). */
  allowUnreachable?: boolean
}

export interface BootstrapChoice {
  node: string
  position: Position
  reason: string
}

/**
 * The node to bootstrap from, among stopped members with a known position: the one grastate marks
 * `safe_to_bootstrap: 1` (the last to leave a clean shutdown), unless another node is known to be
 * further ahead; else the highest seqno; ties go to the first in inventory order.
 */
export function chooseBootstrapNode(facts: readonly NodeFacts[]): BootstrapChoice | undefined {
  const candidates = facts.flatMap((f) => {
    const position = knownPosition(f)
    return position ? [{f, position}] : []
  })
  if (candidates.length === 0) return undefined
  // Highest seqno; `reduce` keeps the earlier (inventory order) on ties.
  const highest = candidates.reduce((best, c) => (c.position.seqno > best.position.seqno ? c : best))
  const safe = candidates.filter((c) => c.f.grastate?.safeToBootstrap)
  const safest = safe.length > 0 ? safe.reduce((best, c) => (c.position.seqno > best.position.seqno ? c : best)) : undefined
  if (safest && safest.position.seqno >= highest.position.seqno) {
    return {
      node: safest.f.node,
      position: safest.position,
      reason: `${safest.f.node} has safe_to_bootstrap: 1 (last to leave) at seqno ${safest.position.seqno}`,
    }
  }
  const ties = candidates.filter((c) => c.position.seqno === highest.position.seqno).map((c) => c.f.node)
  const why =
    ties.length > 1
      ? `highest seqno ${highest.position.seqno}, shared with ${ties.slice(1).join(', ')}: first in inventory order`
      : `highest seqno ${highest.position.seqno}`
  const over = safest ? `; ${safest.f.node} is marked safe_to_bootstrap but is behind (seqno ${safest.position.seqno})` : ''
  return {node: highest.f.node, position: highest.position, reason: `${highest.f.node} has the ${why}${over}`}
}

/**
 * Where a member that would (re)join a Primary component stands against it. Only `behind` (it
 * catches up by IST), `fresh` (holds nothing) and `joining` (already started: waited for) rejoin
 * without losing anything; `ahead` holds transactions the Primary lacks, which a state transfer
 * would discard; `other-history` is another cluster's data; `unknown` may be either: never behind.
 */
export type RejoinStanding = 'behind' | 'fresh' | 'joining' | 'ahead' | 'other-history' | 'unknown'

export function rejoinStanding(member: NodeFacts, primary: Position): RejoinStanding {
  if (isFreshMember(member)) return 'fresh'
  if (member.running && !member.status) return 'joining'
  const position = knownPosition(member)
  if (!position) return 'unknown'
  if (position.uuid !== primary.uuid) return 'other-history'
  return position.seqno > primary.seqno ? 'ahead' : 'behind'
}

/** The Primary component's position: its cluster uuid and the highest seqno its members committed. */
export function primaryPosition(primary: readonly NodeFacts[]): Position {
  return {uuid: primary[0]?.status?.clusterUuid ?? '', seqno: Math.max(-1, ...primary.map((f) => f.status?.lastCommitted ?? -1))}
}

/** Refuses a rejoin that would lose data (a member ahead, from another history, or of unknown position). */
function refuseUnsafeRejoin(primary: readonly NodeFacts[], joiners: readonly NodeFacts[]): RecoveryDecision | undefined {
  const at = primaryPosition(primary)
  const names = primary.map((f) => f.node).join(', ')
  const unsafe = joiners.map((f) => ({f, standing: rejoinStanding(f, at)})).filter((j) => ['ahead', 'other-history', 'unknown'].includes(j.standing))
  if (unsafe.length === 0) return undefined
  const describe = ({f, standing}: (typeof unsafe)[number]) => {
    const p = knownPosition(f)
    if (standing === 'ahead')
      return `${f.node} is AHEAD of the Primary component (${names}): ${f.node} at ${formatPosition(p)}, the Primary at ${formatPosition(at)}; rejoining would discard the ${p!.seqno - at.seqno} transaction(s) only ${f.node} has`
    if (standing === 'other-history')
      return `${f.node} holds another cluster's history (${formatPosition(p)}, the Primary is at ${formatPosition(at)}): rejoining would replace it`
    return `the last committed position of ${f.node} is unknown: it may be ahead of the Primary component (${names}, at ${formatPosition(at)})`
  }
  const kinds = new Set(unsafe.map((u) => u.standing))
  const nodes = unsafe.map((u) => u.f.node).join(', ')
  return {
    action: 'refuse',
    code: kinds.has('other-history') ? 'galera.uuid-mismatch' : kinds.has('ahead') ? 'galera.member-ahead' : 'galera.position-unknown',
    reason: unsafe.map(describe).join('; '),
    hint: [
      `ctl will not choose which transactions to keep. ${nodes} was not started and its datadir was not touched. Either:`,
      `- keep ${nodes}'s transactions: stop ${names} (their writes since they formed the Primary are then the ones at risk) and run galera-recover --dry-run: with every member stopped it bootstraps the highest seqno; check that it names ${nodes} before running it;`,
      `- or discard them: move ${nodes}'s datadir aside (keep it), leave an empty one, and run galera-recover again: it joins by full state transfer.`,
    ].join('\n'),
  }
}

/** Decides what galera-recover does, given the facts of every member in inventory order. */
export function decideRecovery(facts: readonly NodeFacts[], options: DecideOptions = {}): RecoveryDecision {
  if (facts.length === 0)
    return {
      action: 'refuse',
      code: 'galera.no-member',
      reason: 'the inventory lists no Galera member',
      hint: 'Describe the cluster under databases.galera.members.',
    }
  const unreachable = facts.filter((f) => !f.reachable)
  if (unreachable.length > 0 && !options.allowUnreachable) {
    return {
      action: 'refuse',
      code: 'galera.unreachable',
      reason: `cannot reach ${unreachable.map((f) => `${f.node} (${f.error ?? 'no answer'})`).join(', ')}: its last committed position is unknown and it may hold the most recent writes`,
      hint: 'Bring the host back (or check SSH), then run again. Only if it is lost for good: --allow-unreachable (asks first, naming the risk).',
    }
  }
  const reachable = facts.filter((f) => f.reachable)
  if (reachable.length === 0) return {action: 'refuse', code: 'galera.unreachable', reason: 'no member can be reached', hint: 'Check the hosts and SSH access.'}
  const skipped = unreachable.map((f) => f.node)

  const byUuid = new Map<string, string[]>()
  for (const f of reachable) for (const uuid of clusterUuidsOf(f)) byUuid.set(uuid, [...(byUuid.get(uuid) ?? []), f.node])
  if (byUuid.size > 1) {
    return {
      action: 'refuse',
      code: 'galera.uuid-mismatch',
      reason: `members disagree on the cluster uuid: ${[...byUuid].map(([uuid, nodes]) => `${uuid} (${nodes.join(', ')})`).join('; ')}`,
      hint: "They are not one cluster's history: find out which one holds the data you want (look at the rows), and rebuild the others from it by hand. ctl will not choose.",
    }
  }
  const clusterUuid = [...byUuid.keys()][0] ?? ''

  const primary = reachable.filter((f) => isPrimary(f))
  // Members of one Primary component report the same size; different sizes are separate components
  // (e.g. one member left Primary alone while the others were bootstrapped): each may hold writes.
  const sizes = new Set(primary.map((f) => f.status!.clusterSize))
  if (sizes.size > 1) {
    return {
      action: 'refuse',
      code: 'galera.split-brain',
      reason: `members are in separate Primary components: ${primary.map((f) => `${f.node} (size ${f.status!.clusterSize}, at ${formatPosition(knownPosition(f))})`).join(', ')}`,
      hint: 'Each component may have taken writes the other lacks: stop the writers to one side, compare the rows, then stop that side and run galera-recover again. ctl will not choose.',
    }
  }
  if (primary.length > 0) {
    if (unreachable.length === 0 && reachable.every((f) => isSynced(f) && f.status!.clusterSize === facts.length)) {
      return {action: 'none', clusterUuid, reason: `the cluster is healthy: ${facts.length}/${facts.length} members Synced in a Primary component`}
    }
    // Answering but outside the Primary component (stuck non-Primary): restart them. One that runs
    // without answering SQL may be receiving a state transfer: it is waited for, never stopped.
    const stop = reachable.filter((f) => f.running && f.status && !isPrimary(f)).map((f) => f.node)
    const start = reachable.filter((f) => !isPrimary(f)).map((f) => f.node)
    const unsafe = refuseUnsafeRejoin(
      primary,
      reachable.filter((f) => start.includes(f.node)),
    )
    if (unsafe) return unsafe
    return {
      action: 'rejoin',
      clusterUuid,
      reason: `${primary.map((f) => f.node).join(', ')} still form a Primary component: no bootstrap; ${start.length > 0 ? `${start.join(', ')} rejoin it` : 'every reachable member is in it'}`,
      primary: primary.map((f) => f.node),
      stop,
      start,
      startPositions: positionsOf(reachable.filter((f) => start.includes(f.node))),
      skipped,
    }
  }

  // Fresh members hold no history: they join by full state transfer and are never a source.
  const withHistory = reachable.filter((f) => !isFreshMember(f))
  if (withHistory.length === 0) {
    return {
      action: 'refuse',
      code: 'galera.position-unknown',
      reason: 'no member holds any cluster history (all datadirs are fresh)',
      hint: 'There is nothing to recover: initialise the cluster (bootstrap one member by hand), or restore a backup with ctl runbook mariadb-restore.',
    }
  }
  const unknown = withHistory.filter((f) => !knownPosition(f))
  if (unknown.length > 0) {
    return {
      action: 'refuse',
      code: 'galera.position-unknown',
      reason: `the last committed position of ${unknown.map((f) => f.node).join(', ')} is unknown (grastate seqno -1 and no recovered position)`,
      hint: 'Look at `mariadbd --wsrep-recover` on that node (its error log says why it failed), then run again.',
    }
  }
  const choice = chooseBootstrapNode(withHistory)!
  return {
    action: 'bootstrap',
    clusterUuid,
    reason: `no member is Primary; bootstrap ${choice.node}: ${choice.reason}`,
    bootstrapNode: choice.node,
    stop: reachable.filter((f) => f.running).map((f) => f.node),
    start: reachable.filter((f) => f.node !== choice.node).map((f) => f.node),
    startPositions: positionsOf(reachable),
    skipped,
  }
}

function positionsOf(facts: readonly NodeFacts[]): Record<string, Position> {
  const out: Record<string, Position> = {}
  for (const f of facts) {
    const p = knownPosition(f)
    if (p) out[f.node] = p
  }
  return out
}

/** The lines shown before acting. */
export function describeDecision(decision: RecoveryDecision): string[] {
  switch (decision.action) {
    case 'none':
      return [`Decision: nothing to do: ${decision.reason}.`]
    case 'refuse':
      return [`Decision: REFUSE: ${decision.reason}.`]
    case 'rejoin':
    case 'bootstrap': {
      const lines = [`Decision: ${decision.action.toUpperCase()}: ${decision.reason}.`]
      if (decision.stop.length > 0) lines.push(`  stop first (running outside a Primary component): ${decision.stop.join(', ')}`)
      if (decision.action === 'bootstrap')
        lines.push(`  bootstrap: ${decision.bootstrapNode} at ${formatPosition(decision.startPositions[decision.bootstrapNode])}`)
      if (decision.start.length > 0)
        lines.push(
          `  then start one at a time, waiting for Synced: ${decision.start.map((n) => `${n} (from ${formatPosition(decision.startPositions[n])})`).join(', ')}`,
        )
      if (decision.skipped.length > 0) lines.push(`  left out (unreachable): ${decision.skipped.join(', ')}`)
      lines.push(`  cluster uuid to keep: ${decision.clusterUuid || 'unknown'}`)
      return lines
    }
  }
}
