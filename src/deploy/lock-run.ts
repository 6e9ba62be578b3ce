import {CtlError, ExitCode} from '../lib/errors.js'
import {requireConfirmation} from '../lib/prompt.js'
import type {LoadedInventory} from '../inventory/load.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import type {SshPool} from '../ssh/pool.js'
import {describeHolder, isStale, lockPath, type LockInfo, type LockView} from '../locks/lock.js'
import {HeldLocks, newLockInfo, takeOver, tryTake} from '../locks/lock-run.js'
import {deployLockTarget} from './lock.js'

/** Takes and releases the deploy lock on the inventory's first manager. */

export interface HeldLock {
  node: InventoryNode
  path: string
  info: LockInfo
  /** The lock that was broken to take this one (with --force-unlock). */
  broke?: Partial<LockInfo>
  release(): Promise<void>
}

export interface AcquireOptions {
  version: string
  message: string
  forceUnlock: boolean
  yes: boolean
  /** Asks before breaking a stale lock (default: the operator's confirmation). */
  confirm?: (message: string) => Promise<void>
}

export async function acquireLock(pool: SshPool, loaded: LoadedInventory, options: AcquireOptions): Promise<HeldLock> {
  const target = deployLockTarget(loaded)
  const {node} = target
  const {staleAfterMinutes} = loaded.inventory.deployLock
  const info = newLockInfo(loaded.env, `deploying ${options.version}`, options.message ? {message: options.message} : {})
  const where = `${lockPath(target)} on ${node.name}`
  const step = 'take deploy lock'
  let outcome = await tryTake(pool, target, info, step)
  let broke: LockView | undefined
  if (!outcome.taken && outcome.held) {
    const holder = outcome.held
    const now = new Date()
    if (!options.forceUnlock) {
      throw new CtlError(`Deploy of ${loaded.env} refused: the deploy lock is held by ${describeHolder(holder, now)}`, {
        exitCode: ExitCode.cannotRun,
        host: node.name,
        step,
        code: 'deploy.locked',
        hint: isStale(holder, now, staleAfterMinutes)
          ? `Its holder showed no life for over ${staleAfterMinutes} min: the lock may be stale. If no deploy runs, break it with --force-unlock (${where}).`
          : `Wait for that deploy to finish (the lock is ${where}).`,
      })
    }
    if (!isStale(holder, now, staleAfterMinutes)) {
      throw new CtlError(`Refusing to break a fresh deploy lock held by ${describeHolder(holder, now)}`, {
        exitCode: ExitCode.cannotRun,
        host: node.name,
        step: 'break deploy lock',
        code: 'deploy.lock-fresh',
        hint: `--force-unlock breaks only a lock whose holder showed no life (taking it, heartbeats) for deployLock.staleAfterMinutes (${staleAfterMinutes} min); ask the holder, or wait.`,
      })
    }
    const confirm = options.confirm ?? ((message: string) => requireConfirmation({message, yes: options.yes}))
    await confirm(`Break the stale deploy lock of ${loaded.env} held by ${describeHolder(holder, now)}?`)
    // Breaks only the lock that was shown (its token): a lock taken meanwhile by someone else survives.
    outcome = await takeOver(pool, target, holder.info.id, info, 'break deploy lock')
    if (!outcome.taken && outcome.held) {
      const same = outcome.held.info.id === holder.info.id
      throw new CtlError(
        `Deploy of ${loaded.env} refused: ${same ? 'another ctl is breaking the same stale lock right now' : 'the deploy lock changed after it was shown and was left alone'}; it is now held by ${describeHolder(outcome.held, new Date())}`,
        {
          exitCode: ExitCode.cannotRun,
          host: node.name,
          step: 'break deploy lock',
          code: 'deploy.locked',
          hint: `Look at the new holder before doing anything (${where}).`,
        },
      )
    }
    broke = holder
  }
  // The lock disappeared between two looks (its holder released it): take it plainly.
  if (!outcome.taken && !outcome.held) outcome = await tryTake(pool, target, info, step)
  if (!outcome.taken) {
    throw new CtlError(
      `Deploy of ${loaded.env} refused: someone took the deploy lock just now${outcome.held ? `: ${describeHolder(outcome.held, new Date())}` : ''}`,
      {exitCode: ExitCode.cannotRun, host: node.name, step, code: 'deploy.locked'},
    )
  }
  const held = new HeldLocks(pool, [target], info, 'deploy lock').startHeartbeat()
  return {node, path: lockPath(target), info, broke: broke?.info, release: () => held.release()}
}
