import {quote} from '../lib/shell.js'

/**
 * ctl's locks (the deploy lock and the runbook locks): a directory made with `mkdir` on a host
 * (atomic: a second `mkdir` fails) holding info.json with a random token and who, from where, since
 * when and what. They live on the platform, so operators on two machines see the same lock. The
 * holder touches the directory while it runs (heartbeat), so a long run is never judged stale.
 * This module builds the remote scripts and makes the decisions; `./take.ts` runs them.
 */

export interface LockInfo {
  /** Random token of the holder: release, heartbeat and takeover act only on the lock carrying it. */
  id: string
  holder: string
  /** Where ctl ran (host name of the operator's machine). */
  from: string
  since: string
  env: string
  /** What the holder does, e.g. `deploying app=ctl-lab/app:v2` or `galera-recover run <id>`. */
  what: string
  message?: string
  /** Deploy locks of earlier ctl versions name the version instead of `what`. */
  version?: string
  /** The holder's process on `from` (to recognise a run of this machine that was killed). */
  pid?: number
  /** The runbook run holding the lock (its `--resume` may take it back). */
  run?: string
}

/** A lock as read on its host: its details and how long ago its holder last showed life. */
export interface LockView {
  info: Partial<LockInfo>
  /** Seconds since the lock directory was made or last touched by its holder (host clock). */
  heartbeatAgeSeconds?: number
}

/** Where a lock lives: `<dir>/<name>.lock` on `node`. */
export interface LockPlace {
  node: string
  dir: string
  name: string
}

/** Exit code of the scripts when the lock is held by someone else (or changed under a takeover). */
export const LOCK_HELD_EXIT = 3

/** How often a holder touches its locks. Far below any staleness threshold. */
export const HEARTBEAT_SECONDS = 30

export function lockPath(place: Pick<LockPlace, 'dir' | 'name'>): string {
  return `${place.dir.replace(/\/+$/, '')}/${place.name}.lock`
}

/** Prints the heartbeat age in seconds on one line, then the details (`{}` when torn). */
/** The details from stdin, written whole: into a file beside them, then renamed (a reader never sees half of them). */
function writeInfoScript(path: string): string {
  return `cat > ${quote(`${path}/.info.json.new`)} && mv ${quote(`${path}/.info.json.new`)} ${quote(`${path}/info.json`)}`
}

/** `word` is the lock directory as a shell word: a quoted path, or a variable like `"$d"`. */
function printLockScript(word: string): string {
  const info = `${word}/info.json`
  // A lock just taken has its details a moment later (mkdir, then the write), and one being taken over
  // is briefly gone (moved away, then made again): read the details again for up to 2 s until they are there.
  const read = `i=0; while [ $i -lt 20 ]; do c=$(cat ${info} 2>/dev/null) && [ -n "$c" ] && break; c=; sleep 0.1; i=$((i+1)); done`
  return `${read}; if m=$(stat -c %Y ${word} 2>/dev/null); then echo $(( $(date +%s) - m )); fi; if [ -n "$c" ]; then printf '%s\\n' "$c"; else printf '{}'; fi`
}

/** Token test: the lock holds exactly this token (or, for `undefined`, a lock whose details carry none). */
function holdsTokenTest(path: string, token: string | undefined): string {
  const info = quote(`${path}/info.json`)
  return token === undefined ? `{ ! grep -qF '"id":' ${info} 2>/dev/null; }` : `grep -qF ${quote(`"id":"${token}"`)} ${info} 2>/dev/null`
}

/** Takes the lock and writes the details from stdin; if held, prints the holder (see `parseLockView`) and exits 3. */
export function acquireLockScript(place: LockPlace): {script: string} {
  const path = lockPath(place)
  return {
    script: `mkdir -p ${quote(place.dir)} && if mkdir ${quote(path)} 2>/dev/null; then ${writeInfoScript(path)}; else ${printLockScript(quote(path))}; exit ${LOCK_HELD_EXIT}; fi`,
  }
}

/** Prints the lock (see `parseLockView`), or nothing when there is no lock. */
export function readLockScript(place: LockPlace): {script: string} {
  const path = lockPath(place)
  return {script: `if [ -d ${quote(path)} ]; then ${printLockScript(quote(path))}; fi`}
}

/** Prints every lock in `dir`: `== <name>` (without `.lock`), then the lock as `readLockScript` prints it. */
export function listLocksScript(dir: string): {script: string} {
  const base = dir.replace(/\/+$/, '')
  return {
    script: `for d in ${quote(base)}/*.lock; do [ -d "$d" ] || continue; n=\${d##*/}; printf '== %s\\n' "\${n%.lock}"; ${printLockScript('"$d"')}; echo; done`,
  }
}

/** Reads what `listLocksScript` printed: each lock's name and view. */
export function parseLockList(text: string): {name: string; view: LockView}[] {
  return text
    .split(/^== /m)
    .slice(1)
    .map((chunk) => {
      const newline = chunk.indexOf('\n')
      return {name: chunk.slice(0, newline < 0 ? undefined : newline).trim(), view: parseLockView(newline < 0 ? '' : chunk.slice(newline + 1).trim())}
    })
}

/** Removes the lock only if it still carries our token (a lock taken over meanwhile is left alone). */
export function releaseLockScript(place: LockPlace, token: string): {script: string} {
  const path = lockPath(place)
  return {script: `if ${holdsTokenTest(path, token)}; then rm -rf ${quote(path)}; fi`}
}

/** Touches the lock while it carries our token; exits 3 when it no longer does (taken over). */
export function heartbeatLockScript(place: LockPlace, token: string): {script: string} {
  const path = lockPath(place)
  return {script: `if ${holdsTokenTest(path, token)}; then touch ${quote(path)}; else exit ${LOCK_HELD_EXIT}; fi`}
}

/**
 * Replaces the stale lock carrying `staleToken` by ours (details on stdin), atomically among any
 * number of concurrent takers: inside that lock directory a guard `takeover-of-<token>` is made with
 * `mkdir`, which only one taker can do; a taker that lost, or whose guard landed in a newer lock,
 * exits 3 without touching it. The winner moves the old lock aside (atomic) and takes it with
 * `mkdir` like any acquirer, so a plain acquirer arriving in between wins instead (exit 3 again).
 */
export function takeOverLockScript(place: LockPlace, staleToken: string | undefined, myToken: string): {script: string} {
  const path = lockPath(place)
  const guard = `${path}/takeover-of-${staleToken ?? 'untokened'}`
  const tomb = `${place.dir.replace(/\/+$/, '')}/.${place.name}.broken-${myToken}`
  const lost = `{ ${printLockScript(quote(path))}; exit ${LOCK_HELD_EXIT}; }`
  return {
    script: [
      `if ! ${holdsTokenTest(path, staleToken)} || ! mkdir ${quote(guard)} 2>/dev/null; then ${lost}; fi`,
      `if ! ${holdsTokenTest(path, staleToken)}; then rmdir ${quote(guard)}; ${lost}; fi`,
      `mv ${quote(path)} ${quote(tomb)} && rm -rf ${quote(tomb)}`,
      `if mkdir ${quote(path)} 2>/dev/null; then ${writeInfoScript(path)}; else ${lost}; fi`,
    ].join('\n'),
  }
}

function parseInfo(text: string): Partial<LockInfo> {
  try {
    const value = JSON.parse(text) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Partial<LockInfo>) : {}
  } catch {
    return {}
  }
}

/** Reads what the scripts print for a held lock: heartbeat age on the first line, then the details. */
export function parseLockView(text: string): LockView {
  const newline = text.indexOf('\n')
  const first = (newline < 0 ? text : text.slice(0, newline)).trim()
  if (/^-?\d+$/.test(first)) return {heartbeatAgeSeconds: Math.max(0, Number(first)), info: parseInfo(newline < 0 ? '' : text.slice(newline + 1))}
  // A lock whose details are missing or torn is still a lock.
  return {info: parseInfo(text)}
}

/** Minutes since the holder last showed life: the later of when it took the lock and its last heartbeat. */
export function quietMinutes(view: LockView, now: Date): number | undefined {
  const since = view.info.since ? Date.parse(view.info.since) : Number.NaN
  const ages = [
    Number.isNaN(since) ? undefined : (now.getTime() - since) / 60_000,
    view.heartbeatAgeSeconds === undefined ? undefined : view.heartbeatAgeSeconds / 60,
  ]
  const known = ages.filter((a): a is number => a !== undefined)
  return known.length === 0 ? undefined : Math.min(...known)
}

/** Stale: its holder showed no life (taking it, heartbeats) for longer than the threshold. Unknown age is stale. */
export function isStale(view: LockView, now: Date, staleAfterMinutes: number): boolean {
  const quiet = quietMinutes(view, now)
  return quiet === undefined || quiet > staleAfterMinutes
}

/**
 * A lock left by a killed run that `--resume` of that run may take back at once: the same run id
 * (from this operator's own journal), held from this machine by a process that is gone.
 */
export function abandonedByResumedRun(info: Partial<LockInfo>, resume: {runId: string; here: string; alive(pid: number): boolean}): boolean {
  return info.run === resume.runId && info.from === resume.here && typeof info.pid === 'number' && !resume.alive(info.pid)
}

export function majorityOf(members: number): number {
  return Math.floor(members / 2) + 1
}

/** A lock spread over a cluster's hosts is held only when more than half of them were taken. */
export function holdsMajority(taken: number, members: number): boolean {
  return taken >= majorityOf(members)
}

export function describeHolder(view: LockView, now: Date): string {
  const {info} = view
  const since = info.since ? Date.parse(info.since) : Number.NaN
  const age = Number.isNaN(since) ? 'unknown time' : `${Math.round((now.getTime() - since) / 60_000)} min ago`
  const heartbeat =
    view.heartbeatAgeSeconds === undefined
      ? ''
      : `, last heartbeat ${view.heartbeatAgeSeconds < 120 ? `${view.heartbeatAgeSeconds} s` : `${Math.round(view.heartbeatAgeSeconds / 60)} min`} ago`
  const what = info.what ?? (info.version ? `deploying ${info.version}` : undefined)
  return `${info.holder ?? 'unknown'}${info.from ? `@${info.from}` : ''} since ${info.since ?? '?'} (${age}${heartbeat})${what ? `, ${what}` : ''}${info.message ? `: ${info.message}` : ''}`
}

/** How an operator removes a lock by hand once sure nobody holds it. */
export function removeLockHint(place: LockPlace): string {
  return `ssh ${place.node} rm -rf ${quote(lockPath(place))}`
}
