import {openSync, readFileSync, rmSync, writeSync, closeSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'
import {CtlError} from 'ctl/lib/errors.js'
import {note} from 'ctl/lib/progress.js'
import {isAlive} from './daemon.js'
import type {LabInstance} from './types.js'

/**
 * One `lab up` or `lab down` per lab at a time: several engineers (and their test runs) share the
 * lab, and two runs repairing the same host would start two daemons. The lock is a file holding the
 * owner's pid; a lock whose owner died is taken over.
 */

function labLockFile(instance: LabInstance): string {
  return `/run/${instance.prefix}.lock`
}

function tryLock(file: string, what: string): number | undefined {
  try {
    const fd = openSync(file, 'wx', 0o644)
    writeSync(fd, `${process.pid} ${what}\n`)
    closeSync(fd)
    return undefined
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  let owner: number
  try {
    owner = Number(readFileSync(file, 'utf8').split(' ')[0])
  } catch {
    return 0 // released meanwhile: try again
  }
  if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
    rmSync(file, {force: true})
    return 0
  }
  return owner
}

export async function withLabLock<T>(instance: LabInstance, what: string, work: () => Promise<T>, timeoutMs = 20 * 60_000): Promise<T> {
  return withFileLock(labLockFile(instance), instance.prefix, what, work, timeoutMs)
}

/** `work` while holding `file` (created exclusively, holding our pid); `name` is what the lock guards, for the messages. */
export async function withFileLock<T>(file: string, name: string, what: string, work: () => Promise<T>, timeoutMs = 20 * 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let told = false
  for (;;) {
    const owner = tryLock(file, what)
    if (owner === undefined) break
    if (owner > 0 && !told) {
      note(`Waiting for another ctl working on ${name} (pid ${owner}, ${file})...`)
      told = true
    }
    if (Date.now() > deadline) {
      throw new CtlError(`Another ctl (pid ${owner}) has been working on ${name} for too long`, {
        code: 'lab.locked',
        hint: `Check it with: ps -o pid,etime,cmd -p ${owner}`,
      })
    }
    await sleep(250)
  }
  try {
    return await work()
  } finally {
    rmSync(file, {force: true})
  }
}
