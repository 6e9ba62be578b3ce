import {hostname} from 'node:os'
import {randomUUID} from 'node:crypto'
import {operatorName} from '../lib/audit.js'
import {CtlError, ExitCode, toCtlError} from '../lib/errors.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import type {RemoteResult, RemoteRunner} from '../ssh/pool.js'
import {commandFailed} from '../ssh/pool.js'
import {
  HEARTBEAT_SECONDS,
  LOCK_HELD_EXIT,
  acquireLockScript,
  describeHolder,
  heartbeatLockScript,
  holdsMajority,
  isStale,
  lockPath,
  majorityOf,
  parseLockView,
  releaseLockScript,
  removeLockHint,
  takeOverLockScript,
  type LockInfo,
  type LockPlace,
  type LockView,
} from './lock.js'

/** The executor of ctl's locks: runs the scripts of `./lock.ts` on hosts over SSH. */

export interface LockTarget {
  node: InventoryNode
  dir: string
  name: string
}

export type TakeOutcome = {taken: true} | {taken: false; held?: LockView}

const placeOf = (target: LockTarget): LockPlace => ({node: target.node.name, dir: target.dir, name: target.name})

export function newLockInfo(env: string, what: string, extra: Pick<LockInfo, 'message' | 'run'> = {}): LockInfo {
  return {id: randomUUID(), holder: operatorName(), from: hostname(), since: new Date().toISOString(), env, what, pid: process.pid, ...extra}
}

/** Whether a process of this machine still runs (EPERM: it runs as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function outcomeOf(result: RemoteResult, step: string): TakeOutcome {
  if (result.code === 0) return {taken: true}
  if (result.code === LOCK_HELD_EXIT) return {taken: false, held: result.stdout.trim() ? parseLockView(result.stdout) : undefined}
  throw commandFailed(result, step)
}

/** Takes the lock with `mkdir`; when held, says by whom. */
export async function tryTake(remote: RemoteRunner, target: LockTarget, info: LockInfo, step: string): Promise<TakeOutcome> {
  return outcomeOf(await remote.run(target.node, acquireLockScript(placeOf(target)), {stdin: JSON.stringify(info), step}), step)
}

/** Replaces the lock carrying `staleToken` by ours; exactly one of any number of concurrent takers wins. */
export async function takeOver(remote: RemoteRunner, target: LockTarget, staleToken: string | undefined, info: LockInfo, step: string): Promise<TakeOutcome> {
  return outcomeOf(await remote.run(target.node, takeOverLockScript(placeOf(target), staleToken, info.id), {stdin: JSON.stringify(info), step}), step)
}

/** Locks this process holds (one host, or a majority of a cluster's hosts), kept alive by a heartbeat. */
export class HeldLocks {
  private timer?: NodeJS.Timeout

  constructor(
    private readonly remote: RemoteRunner,
    readonly targets: LockTarget[],
    readonly info: LockInfo,
    readonly what: string,
  ) {}

  get places(): {node: string; path: string}[] {
    return this.targets.map((t) => ({node: t.node.name, path: lockPath(t)}))
  }

  /** Touches every held lock now and then, so a long run is not judged stale. Best effort. */
  startHeartbeat(intervalMs = HEARTBEAT_SECONDS * 1000): this {
    this.timer = setInterval(() => {
      for (const t of this.targets)
        void this.remote.run(t.node, heartbeatLockScript(placeOf(t), this.info.id), {step: `heartbeat ${this.what}`, timeoutMs: 15_000}).catch(() => undefined)
    }, intervalMs)
    this.timer.unref()
    return this
  }

  /** Releases every held lock; a failure names each lock left behind and how to remove it. */
  async release(): Promise<void> {
    clearInterval(this.timer)
    const step = `release ${this.what}`
    const results = await Promise.allSettled(this.targets.map((t) => this.remote.run(t.node, releaseLockScript(placeOf(t), this.info.id), {check: true, step})))
    const left = this.targets.filter((_, i) => results[i]!.status === 'rejected')
    if (left.length === 0) return
    const reasons = results.flatMap((r) => (r.status === 'rejected' ? [toCtlError(r.reason).message] : []))
    throw new CtlError(`Could not release the ${this.what} (${left.map((t) => `${lockPath(t)} on ${t.node.name}`).join(', ')}): ${reasons.join('; ')}`, {
      host: left[0]!.node.name,
      step,
      code: 'lock.release-failed',
      hint: `Once no ctl run holds it, remove it by hand: ${left.map((t) => removeLockHint(placeOf(t))).join('; ')}`,
    })
  }
}

/** What blocked a lock on one host: another holder, or a host that could not be asked. */
export interface LockRefusal {
  node: string
  path: string
  /** How to remove it by hand. */
  remove: string
  held?: LockView
  error?: string
}

export interface MajorityOptions {
  what: string
  /** A lock whose holder showed no life for this long is taken over (atomically). */
  staleAfterMinutes: number
  step: string
  /** Also taken over at once: e.g. the lock of the killed run that this run resumes. */
  abandoned?: (view: LockView) => boolean
}

/**
 * Takes the same lock on every target at once and holds it when a majority was taken (releasing the
 * rest otherwise). A stale lock on a host is taken over. Returns the held locks, or the refusals.
 */
export async function takeMajority(
  remote: RemoteRunner,
  targets: LockTarget[],
  info: LockInfo,
  options: MajorityOptions,
): Promise<{held: HeldLocks} | {refusals: LockRefusal[]; taken: number}> {
  const takeOne = async (target: LockTarget): Promise<LockRefusal | undefined> => {
    const path = lockPath(target)
    const remove = removeLockHint(placeOf(target))
    try {
      let outcome = await tryTake(remote, target, info, options.step)
      if (!outcome.taken && outcome.held && (isStale(outcome.held, new Date(), options.staleAfterMinutes) || options.abandoned?.(outcome.held))) {
        outcome = await takeOver(remote, target, outcome.held.info.id, info, options.step)
      }
      // The stale lock was released by its holder between the two looks: take it plainly.
      if (!outcome.taken && !outcome.held) outcome = await tryTake(remote, target, info, options.step)
      return outcome.taken ? undefined : {node: target.node.name, path, remove, held: outcome.held}
    } catch (error) {
      return {node: target.node.name, path, remove, error: toCtlError(error).message}
    }
  }
  const results = await Promise.all(targets.map(takeOne))
  const taken = targets.filter((_, i) => results[i] === undefined)
  const held = new HeldLocks(remote, taken, info, options.what)
  if (holdsMajority(taken.length, targets.length)) return {held}
  // Release what was taken: best effort, the refusal is what the operator needs to read.
  await held.release().catch(() => undefined)
  return {refusals: results.filter((r): r is LockRefusal => r !== undefined), taken: taken.length}
}

/** The refusal of a run because a lock could not be held on a majority of hosts. */
export function majorityRefusal(
  about: {subject: string; code: string; members: number; taken: number; staleAfterMinutes: number},
  refusals: LockRefusal[],
  now = new Date(),
): CtlError {
  const {subject, members, taken, staleAfterMinutes} = about
  const holders = refusals.filter((r) => r.held)
  const first = holders[0]
  const who = first ? describeHolder(first.held!, now) : undefined
  const lines = refusals.map((r) => `${r.node}: ${r.error ? `could not be asked: ${r.error}` : `held (${r.path})`}`)
  return new CtlError(
    `${subject} refused: ${who ? `the lock is held by ${who}` : 'the lock could not be taken'} (taken on ${taken} of ${members} hosts, ${majorityOf(members)} needed; ${lines.join('; ')})`,
    {
      exitCode: ExitCode.cannotRun,
      host: first?.node ?? refusals[0]?.node,
      code: about.code,
      hint: first
        ? `Wait for that run to finish. A lock whose holder sent no heartbeat for ${staleAfterMinutes} min is taken over by the next run${first.held!.info.run ? `; if run ${first.held!.info.run} was killed, its operator continues it with --resume, which takes the lock back` : ''}; if you are sure no run holds it, remove it: ${holders.map((h) => h.remove).join('; ')}`
        : `A majority of the hosts must be reachable to hold the lock; check them with ctl exec <env> -- true.`,
    },
  )
}

/** The note added to a command's own error when releasing its lock failed as well. */
export function releaseNote(releaseError: unknown): string {
  const e = toCtlError(releaseError)
  return `Also: ${e.message}${e.hint ? `. ${e.hint}` : ''}`
}

/**
 * Runs `work` while holding `lock`, then releases it. When both fail, the work's own error is
 * reported with the release failure as a note in its hint; when only the release fails, that is reported.
 */
export async function whileHolding<T>(lock: {release(): Promise<void>}, work: () => Promise<T>): Promise<T> {
  let result: T
  try {
    result = await work()
  } catch (error) {
    try {
      await lock.release()
    } catch (releaseError) {
      const e = toCtlError(error)
      throw new CtlError(e.message, {
        exitCode: e.exitCode,
        host: e.host,
        step: e.step,
        code: e.code,
        hint: [e.hint, releaseNote(releaseError)].filter(Boolean).join('\n'),
        cause: error,
      })
    }
    throw error
  }
  await lock.release()
  return result
}
