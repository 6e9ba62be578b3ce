import {hostname} from 'node:os'
import {randomUUID} from 'node:crypto'
import {CtlError, ExitCode} from '../lib/errors.js'
import {operatorName} from '../lib/audit.js'
import {requireConfirmation} from '../lib/prompt.js'
import type {LoadedInventory} from '../inventory/load.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import type {SshPool} from '../ssh/pool.js'
import {commandFailed} from '../ssh/pool.js'
import {LOCK_HELD_EXIT, acquireLockScript, breakLockScript, describeHolder, isStale, lockPath, parseLockInfo, readLockScript, releaseLockScript, type LockInfo} from './lock.js'

/** Takes and releases the deploy lock on the inventory's first manager. */

export interface HeldLock {
  node: InventoryNode
  path: string
  info: LockInfo
  /** The lock that was broken to take this one (with --force-unlock). */
  broke?: Partial<LockInfo>
  release(): Promise<void>
}

export function lockNode(loaded: LoadedInventory): InventoryNode {
  const node = loaded.inventory.nodes.find((n) => n.role === 'manager')
  if (!node) throw new CtlError('The inventory names no Swarm manager to hold the deploy lock', {exitCode: ExitCode.cannotRun, code: 'deploy.no-manager', hint: 'Give one node `role: manager`.'})
  return node
}

export async function readLock(pool: SshPool, loaded: LoadedInventory): Promise<Partial<LockInfo> | undefined> {
  const {dir} = loaded.inventory.deployLock
  const result = await pool.run(lockNode(loaded), readLockScript(dir, loaded.env), {check: true, step: 'read deploy lock'})
  return result.stdout.trim() ? parseLockInfo(result.stdout) : undefined
}

export interface AcquireOptions {
  version: string
  message: string
  forceUnlock: boolean
  yes: boolean
}

export async function acquireLock(pool: SshPool, loaded: LoadedInventory, options: AcquireOptions): Promise<HeldLock> {
  const node = lockNode(loaded)
  const {dir, staleAfterMinutes} = loaded.inventory.deployLock
  const info: LockInfo = {id: randomUUID(), holder: operatorName(), from: hostname(), since: new Date().toISOString(), env: loaded.env, version: options.version, message: options.message}
  const tryOnce = () => pool.run(node, acquireLockScript(dir, loaded.env), {stdin: JSON.stringify(info), step: 'take deploy lock'})
  let result = await tryOnce()
  let broke: Partial<LockInfo> | undefined
  if (result.code === LOCK_HELD_EXIT) {
    const holder = parseLockInfo(result.stdout)
    const now = new Date()
    const where = `${lockPath(dir, loaded.env)} on ${node.name}`
    if (!options.forceUnlock) {
      throw new CtlError(`Deploy of ${loaded.env} refused: the deploy lock is held by ${describeHolder(holder, now)}`, {
        exitCode: ExitCode.cannotRun,
        host: node.name,
        step: 'take deploy lock',
        code: 'deploy.locked',
        hint: isStale(holder, now, staleAfterMinutes)
          ? `The lock is older than ${staleAfterMinutes} min and may be stale: if no deploy runs, break it with --force-unlock (${where}).`
          : `Wait for that deploy to finish (the lock is ${where}).`,
      })
    }
    if (!isStale(holder, now, staleAfterMinutes)) {
      throw new CtlError(`Refusing to break a fresh deploy lock held by ${describeHolder(holder, now)}`, {
        exitCode: ExitCode.cannotRun,
        host: node.name,
        step: 'break deploy lock',
        code: 'deploy.lock-fresh',
        hint: `--force-unlock breaks only locks older than deployLock.staleAfterMinutes (${staleAfterMinutes} min); ask the holder, or wait.`,
      })
    }
    await requireConfirmation({message: `Break the stale deploy lock of ${loaded.env} held by ${describeHolder(holder, now)}?`, yes: options.yes})
    await pool.run(node, breakLockScript(dir, loaded.env), {check: true, step: 'break deploy lock'})
    broke = holder
    result = await tryOnce()
  }
  if (result.code === LOCK_HELD_EXIT) {
    throw new CtlError(`Deploy of ${loaded.env} refused: someone took the deploy lock just now: ${describeHolder(parseLockInfo(result.stdout), new Date())}`, {exitCode: ExitCode.cannotRun, host: node.name, code: 'deploy.locked'})
  }
  if (result.code !== 0) throw commandFailed(result, 'take deploy lock')
  return {
    node,
    path: lockPath(dir, loaded.env),
    info,
    broke,
    release: async () => {
      await pool.run(node, releaseLockScript(dir, loaded.env, info.id), {check: true, step: 'release deploy lock'})
    },
  }
}
