import {closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs'
import {join} from 'node:path'
import {CtlError, ExitCode} from '../lib/errors.js'

/**
 * One run of a runbook per environment at a time on this machine: two recoveries of the same
 * cluster at once (an operator and `ctl lab up`, or two terminals) would fight over it. A lock file
 * next to the journals holds the owner's pid; a lock whose process is gone is taken over.
 */

export interface RunLock {
  release(): void
}

interface Holder {
  pid: number
  runId: string
  operator: string
  since: string
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function acquireRunLock(dir: string, runbook: string, env: string, holder: Omit<Holder, 'pid' | 'since'>): RunLock {
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const path = join(dir, `${runbook}-${env}.lock`)
  const mine: Holder = {pid: process.pid, since: new Date().toISOString(), ...holder}
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      writeSync(fd, JSON.stringify(mine))
      closeSync(fd)
      return {release: () => rmSync(path, {force: true})}
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      let other: Holder | undefined
      try {
        other = JSON.parse(readFileSync(path, 'utf8')) as Holder
      } catch {
        other = undefined
      }
      if (other && alive(other.pid)) {
        throw new CtlError(`Another ${runbook} run on ${env} is in progress (run ${other.runId}, pid ${other.pid}, ${other.operator}, since ${other.since})`, {
          exitCode: ExitCode.cannotRun,
          code: 'runbook.locked',
          hint: `Wait for it to finish. If that process is really gone, remove ${path}.`,
        })
      }
      // Its process is gone (killed mid-run): the lock is stale.
      rmSync(path, {force: true})
    }
  }
  throw new CtlError(`Could not take the run lock ${path}`, {exitCode: ExitCode.cannotRun, code: 'runbook.locked'})
}
