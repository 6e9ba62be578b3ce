import {quote} from '../lib/shell.js'

/**
 * The deploy lock: a directory made with `mkdir` on the first manager (atomic: a second `mkdir` fails),
 * holding who took it, when, for which version and why. It lives on the platform, so operators on
 * two machines see the same lock. Builders return scripts; `parseLockInfo`/`isStale` decide.
 */

export interface LockInfo {
  /** Random token of the holder; release removes the lock only when it still holds this token. */
  id: string
  holder: string
  /** Where ctl ran (host name of the operator's machine). */
  from: string
  since: string
  env: string
  /** What is being deployed, e.g. `app=ctl-lab/app:v2`. */
  version: string
  message: string
}

/** Exit code of the acquire script when someone else holds the lock. */
export const LOCK_HELD_EXIT = 3

export function lockPath(dir: string, env: string): string {
  return `${dir.replace(/\/+$/, '')}/deploy-${env}.lock`
}

/** Takes the lock and writes the details from stdin; if held, prints the holder's details and exits 3. */
export function acquireLockScript(dir: string, env: string): {script: string} {
  const path = lockPath(dir, env)
  const info = `${path}/info.json`
  return {
    script: `mkdir -p ${quote(dir)} && if mkdir ${quote(path)} 2>/dev/null; then cat > ${quote(info)}; else cat ${quote(info)} 2>/dev/null || printf '{}'; exit ${LOCK_HELD_EXIT}; fi`,
  }
}

/** Removes the lock only if it still carries our token (a broken-and-retaken lock is left alone). */
export function releaseLockScript(dir: string, env: string, id: string): {script: string} {
  const path = lockPath(dir, env)
  return {script: `if grep -qF ${quote(`"id":"${id}"`)} ${quote(`${path}/info.json`)} 2>/dev/null; then rm -rf ${quote(path)}; fi`}
}

/** Prints the lock's details, or nothing when there is no lock. */
export function readLockScript(dir: string, env: string): {script: string} {
  const path = lockPath(dir, env)
  return {script: `if [ -d ${quote(path)} ]; then cat ${quote(`${path}/info.json`)} 2>/dev/null || printf '{}'; fi`}
}

/** Breaks the lock whoever holds it (only after `--force-unlock` and a confirmation). */
export function breakLockScript(dir: string, env: string): {script: string} {
  return {script: `rm -rf ${quote(lockPath(dir, env))}`}
}

/** Reads the details a lock holds; a lock whose details are missing or torn is still a lock. */
export function parseLockInfo(text: string): Partial<LockInfo> {
  try {
    const value = JSON.parse(text) as unknown
    return typeof value === 'object' && value !== null ? (value as Partial<LockInfo>) : {}
  } catch {
    return {}
  }
}

export function isStale(info: Partial<LockInfo>, now: Date, staleAfterMinutes: number): boolean {
  const since = info.since ? Date.parse(info.since) : Number.NaN
  // A lock without a readable time cannot be judged fresh: treat it as stale (breaking still needs --force-unlock).
  if (Number.isNaN(since)) return true
  return now.getTime() - since > staleAfterMinutes * 60_000
}

export function describeHolder(info: Partial<LockInfo>, now: Date): string {
  const since = info.since ? Date.parse(info.since) : Number.NaN
  const age = Number.isNaN(since) ? 'unknown time' : `${Math.round((now.getTime() - since) / 60_000)} min ago`
  return `${info.holder ?? 'unknown'}${info.from ? `@${info.from}` : ''} since ${info.since ?? '?'} (${age})${info.version ? `, deploying ${info.version}` : ''}${info.message ? `: ${info.message}` : ''}`
}
