import type {RedisMemberFacts} from './facts.js'
import {sentinelView} from './judge.js'
import type {RedisPersistence} from './persistence.js'

/**
 * Which member redis-recover starts as master after members went down: the one with the most recent
 * data. A running master that a majority of sentinels name is the master already (what is down
 * rejoins it). Otherwise each member's data age: a running replica's since its link went down, a
 * stopped one's since its last persisted write (src/redis/persistence.ts). Ages within
 * SAME_WRITE_SECONDS count as the same moment (AOF fsync every second). The master the sentinels named
 * wins unless another member wrote later than it (replicas only ever hold a part of what it
 * acknowledged); else a running member, then one whose age is a write's, then the most data, then
 * the node's name. A member without data files never is.
 *
 * An age known only as an upper bound (a base or RDB made after the writes it holds, e.g. by a full
 * resync) never beats another member: such a member holds what its master had when the base was
 * made. Measured on the lab: replicas resynced after the last write looked newer than their master. Pure.
 */

const SAME_WRITE_SECONDS = 1.5

export interface RecoveryCandidate {
  node: string
  /** How it runs now (undefined: down). */
  running?: 'master' | 'slave'
  /** Seconds since its data last changed; undefined: it cannot be the source (see why). */
  ageSeconds?: number
  /** The age is a write's; false: the time its base or RDB was made (its data is at most that new). */
  exact?: boolean
  bytes?: number
  /** The sentinels (most of those that answer) name it master. */
  named: boolean
  why?: string
}

export type RecoveryChoice =
  | {ok: true; source: string; others: string[]; candidates: RecoveryCandidate[]; reason: string}
  | {ok: false; code: string; reason: string; hint: string; candidates: RecoveryCandidate[]}

/** The master most answering sentinels name (a plurality: after an outage the majority may not answer). */
function namedMaster(facts: readonly RedisMemberFacts[]): RedisMemberFacts | undefined {
  const votes = new Map<string, number>()
  for (const f of facts)
    if (f.sentinelMaster)
      votes.set(`${f.sentinelMaster.address}:${f.sentinelMaster.port}`, (votes.get(`${f.sentinelMaster.address}:${f.sentinelMaster.port}`) ?? 0) + 1)
  const best = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0]
  return facts.find((f) => `${f.address}:${f.port}` === best)
}

function candidateOf(f: RedisMemberFacts, p: RedisPersistence | undefined, named: boolean): RecoveryCandidate {
  const base = {node: f.node, named, ...(f.role ? {running: f.role} : {}), ...(p?.bytes ? {bytes: p.bytes} : {})}
  if (f.role === 'master') return {...base, ageSeconds: 0, exact: true}
  if (f.role === 'slave') {
    if (f.linkUp) return {...base, ageSeconds: 0, exact: true}
    if (f.linkDownSeconds !== undefined) return {...base, ageSeconds: f.linkDownSeconds, exact: true}
  }
  if (!p) return {...base, why: 'its data directory could not be read'}
  if (p.error) return {...base, why: p.error}
  if (!p.found) return {...base, why: 'its data directory does not exist'}
  if (p.lastWriteAgeSeconds === undefined) return {...base, why: 'no RDB or AOF file in its data directory'}
  return {...base, ageSeconds: p.lastWriteAgeSeconds, exact: p.exact === true}
}

const describe = (c: RecoveryCandidate) =>
  `${c.node}: ${c.ageSeconds === undefined ? `no (${c.why})` : `${c.exact === false ? 'files made' : 'last write'} ${c.ageSeconds.toFixed(1)} s ago${c.running ? `, running as ${c.running}` : ', down'}${c.named ? ', the master the sentinels named' : ''}`}`

export function chooseRecoverySource(facts: readonly RedisMemberFacts[], persistence: readonly RedisPersistence[], asked?: string): RecoveryChoice {
  const view = sentinelView(facts)
  const named = namedMaster(facts)
  const candidates = facts.map((f) =>
    candidateOf(
      f,
      persistence.find((p) => p.node === f.node),
      f === named,
    ),
  )
  const others = (source: string) => facts.map((f) => f.node).filter((n) => n !== source)
  const agreed = view.master && facts.find((f) => f.address === view.master!.address && f.port === view.master!.port)
  if (agreed?.role === 'master') {
    if (asked !== undefined && asked !== agreed.node)
      return {
        ok: false,
        code: 'redis.master-up',
        reason: `${agreed.node} is the master the sentinels agree on and it answers: it stays the master`,
        hint: `Run without --from to bring the other members back as its replicas; to move the master: ctl runbook redis-failover --to ${asked}.`,
        candidates,
      }
    return {
      ok: true,
      source: agreed.node,
      others: others(agreed.node),
      candidates,
      reason: `${agreed.node} is the master the sentinels agree on and it answers`,
    }
  }
  const fit = candidates.filter((c) => c.ageSeconds !== undefined)
  if (fit.length === 0)
    return {
      ok: false,
      code: 'redis.no-data',
      reason: `no member has data to start from: ${candidates.map(describe).join('; ')}`,
      hint: 'Restore a member from a backup first, or, if losing every key is intended, start one member by hand as an empty master.',
      candidates,
    }
  const exact = fit.filter((c) => c.exact)
  const newest = Math.min(...(exact.length > 0 ? exact : fit).map((c) => c.ageSeconds!))
  if (asked !== undefined) {
    const chosen = candidates.find((c) => c.node === asked)
    if (!chosen)
      return {
        ok: false,
        code: 'redis.bad-source',
        reason: `${asked} is not a member of databases.redis`,
        hint: `Members: ${facts.map((f) => f.node).join(', ')}`,
        candidates,
      }
    if (chosen.ageSeconds === undefined)
      return {
        ok: false,
        code: 'redis.bad-source',
        reason: `${asked} cannot be the master: ${chosen.why}`,
        hint: 'Choose another member, or run without --from.',
        candidates,
      }
    if (chosen.ageSeconds - newest > SAME_WRITE_SECONDS)
      return {
        ok: false,
        code: 'redis.older-source',
        reason: `${asked}'s data is older than another member's: ${candidates.map(describe).join('; ')}`,
        hint: 'Starting it as master would throw away the newer writes. Run without --from to start the newest.',
        candidates,
      }
    return {ok: true, source: asked, others: others(asked), candidates, reason: describe(chosen)}
  }
  // The master the sentinels named holds everything its replicas got, unless a replica wrote (an exact age) later than it.
  const namedFit = fit.find((c) => c.named)
  if (namedFit && !exact.some((c) => c.ageSeconds! < namedFit.ageSeconds! - SAME_WRITE_SECONDS))
    return {ok: true, source: namedFit.node, others: others(namedFit.node), candidates, reason: `${describe(namedFit)} (no member wrote later)`}
  const ranked = fit
    .filter((c) => !c.named && c.ageSeconds! - newest <= SAME_WRITE_SECONDS)
    .sort(
      (a, b) =>
        Number(b.running !== undefined) - Number(a.running !== undefined) ||
        Number(b.exact === true) - Number(a.exact === true) ||
        (b.bytes ?? 0) - (a.bytes ?? 0) ||
        a.node.localeCompare(b.node),
    )
  const source = ranked[0]!
  return {ok: true, source: source.node, others: others(source.node), candidates, reason: `${describe(source)} (the most recent data)`}
}
