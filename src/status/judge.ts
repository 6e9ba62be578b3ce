import type {CheckResult} from '../checks/types.js'
import type {Release} from '../deploy/releases.js'
import type {ServiceView} from '../deploy/swarm-state.js'
import type {HistoryLine} from '../history/shared.js'
import type {Inventory} from '../inventory/schema/index.js'
import {ExitCode} from '../lib/errors.js'
import {isStale, type LockView} from '../locks/lock.js'
import {findSwarmNode} from '../swarm/match.js'
import type {SwarmNodeView} from '../swarm/views.js'
import type {ClusterState, StatusBackup, StatusCluster, StatusLock, StatusNode, StatusProblem, StatusReport, StatusService} from './report.js'

/**
 * Turns what `ctl status` read (check rows, the swarm, releases, locks, history) into the report:
 * problems first, worst first, causes before symptoms. Pure: the gathering is in ./gather.ts.
 */

/** The checks whose rows `ctl status` reads: the fast ones that say what is wrong now. */
export const STATUS_CHECKS = [
  'ssh',
  'swarm',
  'service-health',
  'galera',
  'galera-replica',
  'patroni',
  'etcd',
  'rabbitmq',
  'redis',
  'vault',
  'registry-pull',
  'backups',
  'backups-offsite',
] as const

/** How long `--watch` keeps passing offsite rows before listing the store again. */
export const OFFSITE_REUSE_MS = 60_000

/**
 * Whether a `--watch` round may show the offsite rows of an earlier round instead of listing the
 * store again: listing derives restic's key (about 0.7 s of CPU on the backup node) every few
 * seconds otherwise. Only rows that all passed, and for at most OFFSITE_REUSE_MS: a failure or an
 * error is read again every round, so its repair shows at once. Pure.
 */
export function reuseOffsite(earlier: {rows: readonly CheckResult[]; readAt: number}, now: number): boolean {
  return (
    earlier.rows.some((r) => r.status === 'pass') &&
    earlier.rows.every((r) => r.status === 'pass' || r.status === 'skip') &&
    now - earlier.readAt < OFFSITE_REUSE_MS
  )
}

/**
 * Order of problems of one severity: hosts, then the swarm, then what services stand on (etcd
 * under Patroni, databases, brokers, Vault), then the services (an app failing its /health because
 * its database is down is the symptom), then what does not hurt yet (backup replica, registry, backups).
 */
const CAUSE_ORDER = [
  'ssh',
  'swarm-read',
  'swarm',
  'etcd',
  'galera',
  'patroni',
  'redis',
  'rabbitmq',
  'vault',
  'service-health',
  'galera-replica',
  'registry-pull',
  'lock',
  'backups',
  'backups-offsite',
]
const SEVERITY_ORDER: Record<StatusProblem['severity'], number> = {fail: 0, error: 1, warn: 2}
/**
 * A row about its own target being gone ("mariadbd is not running", "does not answer", "sealed"), not
 * about a peer it misses (Galera's "size 2/3", RabbitMQ's "the cluster runs 2 of 3 nodes: rabbit@x not
 * running"): within one check the member that is down comes before those that only see it gone.
 */
const DOWN = /(\bis not running|\bdoes not answer|\bnot answering|\bunreachable|^sealed\b|\bstopped\b|connection refused|cannot connect)/i

/** The clusters shown one line each: the check that judges each, in display order. */
const CLUSTERS: {check: string; name: string}[] = [
  {check: 'swarm', name: 'swarm'},
  {check: 'etcd', name: 'etcd'},
  {check: 'patroni', name: 'patroni'},
  {check: 'galera', name: 'galera'},
  {check: 'galera-replica', name: 'galera backup replica'},
  {check: 'redis', name: 'redis'},
  {check: 'rabbitmq', name: 'rabbitmq'},
  {check: 'vault', name: 'vault'},
]

export interface LockSighting {
  node: string
  /** The lock directory's name without `.lock`. */
  name: string
  view: LockView
}

export interface StatusFacts {
  env: string
  inventory: Inventory
  now: Date
  durationMs: number
  rows: readonly CheckResult[]
  /** Read from a manager through the Engine API; undefined with `swarmError` when none answered. */
  swarm?: {nodes: readonly SwarmNodeView[]; services: readonly ServiceView[]}
  swarmError?: string
  releases: readonly Release[]
  locks: readonly LockSighting[]
  recent: readonly HistoryLine[]
}

function orderProblems(problems: readonly StatusProblem[]): StatusProblem[] {
  const rank = (area: string) => (CAUSE_ORDER.includes(area) ? CAUSE_ORDER.indexOf(area) : CAUSE_ORDER.length)
  return problems
    .map((p, i) => ({p, i}))
    .sort(
      (a, b) =>
        SEVERITY_ORDER[a.p.severity] - SEVERITY_ORDER[b.p.severity] ||
        rank(a.p.area) - rank(b.p.area) ||
        Number(!DOWN.test(a.p.detail)) - Number(!DOWN.test(b.p.detail)) ||
        a.i - b.i,
    )
    .map(({p}) => p)
}

/** The image's version as operators say it: the tag, or the digest's start. */
export function imageVersion(image: string): string | undefined {
  const [name, digest] = image.split('@')
  const tag = name!.slice(name!.lastIndexOf('/') + 1).split(':')[1]
  return tag ?? (digest ? digest.slice(0, 19) : undefined)
}

/** A cluster's line from its check's rows: worst state, its leader when a row names one, and what is wrong or how it stands. */
export function clusterLine(name: string, rows: readonly CheckResult[], nodeNames: ReadonlySet<string>): StatusCluster | undefined {
  const judged = rows.filter((r) => r.status !== 'skip')
  if (judged.length === 0) return undefined
  const members = judged.filter((r) => nodeNames.has(r.target))
  const bad = judged.filter((r) => r.status !== 'pass')
  // Down: every member is itself gone (or unreadable), not merely seeing another gone ("size 2/3").
  const memberDown = members.filter((r) => r.status === 'error' || (r.status === 'fail' && DOWN.test(r.detail)))
  let state: ClusterState = 'ok'
  if (bad.length > 0) state = 'degraded'
  if (judged.every((r) => r.status === 'error')) state = 'unknown'
  else if (members.length > 0 && memberDown.length === members.length && memberDown.some((r) => r.status === 'fail')) state = 'down'
  else if (members.length === 0 && judged.every((r) => r.status === 'fail')) state = 'down'
  const summary =
    bad.length > 0 ? bad.map((r) => `${r.target}: ${r.detail}`).join('; ') : `${healthySummary(judged)}${judged.length > 1 ? ` (all ${judged.length} ok)` : ''}`
  return {name, state, ...optional('leader', leaderOf(name, judged)), summary}
}

/** How a healthy cluster stands in a few words: its cluster-wide row (Swarm's managers, Vault's Raft), else what most of its rows say. */
function healthySummary(rows: readonly CheckResult[]): string {
  const clusterWide = rows.find((r) => r.target === 'managers' || r.target === 'raft')
  // Patroni's leader row only names the leader (shown apart), its archiving row is about WAL.
  return clusterWide?.detail ?? mostCommon(rows.filter((r) => r.target !== 'leader' && r.target !== 'archiving').map((r) => r.detail))
}

function mostCommon(values: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? ''
}

/** The leader as the cluster's check names it (patroni's `leader` row, "leader X", "active X", "master X"). */
function leaderOf(cluster: string, rows: readonly CheckResult[]): string | undefined {
  const passing = rows.filter((r) => r.status === 'pass')
  if (cluster === 'patroni') return passing.find((r) => r.target === 'leader')?.detail.split(',')[0]
  // Redis's master row is its node's, saying "master, 2 of 2 replicas online...".
  const master = passing.find((r) => /^master\b/.test(r.detail))
  if (master) return master.target
  for (const r of passing) {
    const found = /\b(?:leader|active|master) ([A-Za-z0-9_.:@-]+)/.exec(r.detail)
    if (found && found[1] !== 'none') return found[1]
  }
  return undefined
}

function optional<K extends string, V>(key: K, value: V | undefined): {[P in K]?: V} {
  return (value === undefined ? {} : {[key]: value}) as {[P in K]?: V}
}

/** Locks seen on several hosts (a run lock is held on a majority of its cluster) become one, named without the host suffix. */
export function groupLocks(env: string, sightings: readonly LockSighting[], staleAfter: {deploy: number; runbook: number}, now: Date): StatusLock[] {
  const byName = new Map<string, StatusLock>()
  for (const s of sightings) {
    const kind = s.name === `deploy-${env}` ? 'deploy' : s.name.startsWith('runbook-') ? 'runbook' : undefined
    // Another environment's lock in the same directory is not this status's business.
    if (!kind || !(s.name === `deploy-${env}` || s.name.endsWith(`-${env}`) || s.name.includes(`-${env}.`))) continue
    // A run lock's name ends with the host it stands for (`runbook-galera-prod.h2`): hosts that share
    // a file system (like the lab's) all list it, but it is held on that host alone.
    const suffix = kind === 'runbook' ? new RegExp(`-${env.replaceAll('.', '\\.')}\\.([^.]+)$`).exec(s.name)?.[1] : undefined
    const name = suffix ? s.name.slice(0, -(suffix.length + 1)) : s.name
    const node = suffix ?? s.node
    const key = `${name} ${s.view.info.id ?? ''}`
    const known = byName.get(key)
    if (known) {
      if (!known.nodes.includes(node)) known.nodes.push(node)
      continue
    }
    byName.set(key, {
      kind,
      name,
      nodes: [node],
      holder: `${s.view.info.holder ?? 'unknown'}${s.view.info.from ? `@${s.view.info.from}` : ''}`,
      ...optional('what', s.view.info.what ?? (s.view.info.version ? `deploying ${s.view.info.version}` : undefined)),
      ...optional('since', s.view.info.since),
      ...optional('heartbeatAgeSeconds', s.view.heartbeatAgeSeconds),
      stale: isStale(s.view, now, kind === 'deploy' ? staleAfter.deploy : staleAfter.runbook),
    })
  }
  return [...byName.values()]
}

function nodesOf(facts: StatusFacts): StatusNode[] {
  const ssh = new Map(facts.rows.filter((r) => r.check === 'ssh').map((r) => [r.target, r.status]))
  return facts.inventory.nodes.map((node) => {
    const view = facts.swarm && findSwarmNode(node, facts.swarm.nodes)
    return {
      name: node.name,
      address: node.address,
      ...(view ? {role: view.role, state: view.state, availability: view.availability} : {}),
      leader: view?.leader ?? false,
      reachable: ssh.get(node.name) === 'pass',
    }
  })
}

function servicesOf(facts: StatusFacts): StatusService[] {
  const health = new Map(facts.rows.filter((r) => r.check === 'service-health').map((r) => [r.target, r]))
  return facts.inventory.services.map((svc) => {
    const swarmName = svc.strategy === 'swarm' && svc.stack ? `${svc.stack}_${svc.name}` : undefined
    const view = swarmName ? facts.swarm?.services.find((s) => s.name === swarmName) : undefined
    const release = [...facts.releases].reverse().find((r) => (swarmName ? r.swarmName === swarmName : r.service === svc.name))
    const image = view?.image.split('@')[0] || release?.image
    const row = health.get(svc.name)
    return {
      name: svc.name,
      ...optional('swarmName', swarmName),
      ...optional('image', image),
      ...optional('version', image && imageVersion(image)),
      ...(view
        ? {
            running: view.tasks.filter((t) => t.desiredState === 'running' && t.state === 'running').length,
            desired: view.replicas,
            ...optional('updateState', view.updateState),
          }
        : {}),
      ...optional(
        'lastRelease',
        release && {id: release.id, kind: release.kind, image: release.image, who: release.who, at: release.at, outcome: release.outcome},
      ),
      health: row?.status ?? 'unknown',
      detail: row?.detail ?? (swarmName && facts.swarm && !view ? 'not deployed' : 'health not read'),
    }
  })
}

function problemsOf(facts: StatusFacts, locks: readonly StatusLock[]): StatusProblem[] {
  const problems: StatusProblem[] = facts.rows
    .filter((r): r is CheckResult & {status: StatusProblem['severity']} => r.status === 'fail' || r.status === 'error' || r.status === 'warn')
    .map((r) => ({severity: r.status, area: r.check, target: r.target, detail: r.detail, ...optional('hint', r.hint)}))
  if (facts.swarmError) problems.push({severity: 'error', area: 'swarm-read', target: 'swarm', detail: facts.swarmError})
  for (const lock of locks.filter((l) => l.stale))
    problems.push({
      severity: 'warn',
      area: 'lock',
      target: lock.name,
      detail: `stale ${lock.kind} lock of ${lock.holder}${lock.what ? ` (${lock.what})` : ''}: no sign of life${lock.heartbeatAgeSeconds === undefined ? '' : ` for ${Math.round(lock.heartbeatAgeSeconds / 60)} min`}`,
      hint:
        lock.kind === 'deploy'
          ? `If nobody is deploying: ctl deploy ${facts.env} --force-unlock`
          : 'The next run of that runbook takes it over; ask its holder first.',
    })
  return orderProblems(problems)
}

function statusExitCode(problems: readonly StatusProblem[]): number {
  if (problems.some((p) => p.severity === 'fail')) return ExitCode.failed
  if (problems.some((p) => p.severity === 'error')) return ExitCode.cannotRun
  return ExitCode.ok
}

export function buildStatus(facts: StatusFacts): StatusReport {
  const nodeNames = new Set(facts.inventory.nodes.map((n) => n.name))
  const locks = groupLocks(
    facts.env,
    facts.locks,
    {deploy: facts.inventory.deployLock.staleAfterMinutes, runbook: facts.inventory.deployLock.runbookStaleAfterMinutes},
    facts.now,
  )
  const problems = problemsOf(facts, locks)
  const clusters = CLUSTERS.map((c) =>
    clusterLine(
      c.name,
      facts.rows.filter((r) => r.check === c.check),
      nodeNames,
    ),
  ).filter((c): c is StatusCluster => c !== undefined)
  const backups: StatusBackup[] = facts.rows
    .filter((r) => (r.check === 'backups' || r.check === 'backups-offsite') && r.status !== 'skip')
    .map((r) => ({component: r.check === 'backups' ? r.target : `${r.target} offsite`, status: r.status, detail: r.detail}))
  return {
    env: facts.env,
    at: facts.now.toISOString(),
    durationMs: facts.durationMs,
    exitCode: statusExitCode(problems),
    problems,
    nodes: nodesOf(facts),
    services: servicesOf(facts),
    clusters,
    locks,
    backups,
    recent: [...facts.recent],
  }
}
