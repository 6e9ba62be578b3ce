/**
 * ctl's external /health gate: a new task (or host) must answer healthy, without a break, for
 * `passForSeconds` before the rollout goes on; no pass within `deadlineSeconds` fails it, and so does
 * a failure once it has answered healthy (the same rule keeps watching it in its monitor window). The
 * decision is pure (a list of probes in, a verdict out); `probeHealth` is the one HTTP call.
 */

export interface Probe {
  /** Milliseconds since the epoch. */
  at: number
  /** HTTP status, or null when nothing answered. */
  status: number | null
  /** Start of the body, or the connection error. */
  detail: string
}

export interface GateSettings {
  expectStatus: number
  passForSeconds: number
  deadlineSeconds: number
}

export type GateVerdict = {state: 'pending'; healthyForMs: number} | {state: 'passed'; healthyForMs: number} | {state: 'failed'; reason: string}

function isHealthy(probe: Probe, settings: Pick<GateSettings, 'expectStatus'>): boolean {
  return probe.status === settings.expectStatus
}

/** How long the probes have answered healthy without a break, up to the newest one. */
export function healthyStreakMs(probes: readonly Probe[], settings: Pick<GateSettings, 'expectStatus'>): number {
  const newest = probes.at(-1)
  if (!newest || !isHealthy(newest, settings)) return 0
  let first = newest
  for (let i = probes.length - 1; i >= 0 && isHealthy(probes[i]!, settings); i--) first = probes[i]!
  return newest.at - first.at
}

function describeProbe(probe: Probe): string {
  return probe.status === null ? `no answer (${probe.detail})` : `HTTP ${probe.status}`
}

/**
 * Fail fast: once a task has answered healthy, a wrong answer (or two probes in a row with no answer,
 * so one slow probe on a loaded host is not a verdict) fails it, before or after its gate passed.
 */
function failureAfterHealthy(probes: readonly Probe[], settings: Pick<GateSettings, 'expectStatus'>): Probe | undefined {
  const first = probes.findIndex((p) => isHealthy(p, settings))
  if (first < 0) return undefined
  for (let i = first + 1; i < probes.length; i++) {
    const probe = probes[i]!
    if (probe.status !== null && !isHealthy(probe, settings)) return probe
    if (probe.status === null && i - 1 > first && probes[i - 1]!.status === null) return probe
  }
  return undefined
}

/**
 * `startedAt` is when the task's container started (its first probe), not when Swarm scheduled it: the
 * time a task waits for a node, a pull or a free host port is Swarm's, bounded by the rollout's timeout.
 */
export function evaluateGate(probes: readonly Probe[], startedAt: number, now: number, settings: GateSettings): GateVerdict {
  if (probes.length === 0) return {state: 'pending', healthyForMs: 0}
  const relapse = failureAfterHealthy(probes, settings)
  if (relapse) return {state: 'failed', reason: `answered ${describeProbe(relapse)} after being healthy`}
  const streak = healthyStreakMs(probes, settings)
  if (streak >= settings.passForSeconds * 1000) return {state: 'passed', healthyForMs: streak}
  if (now - startedAt > settings.deadlineSeconds * 1000) {
    const last = probes.at(-1)
    const only = streak > 0 ? ` (healthy for only ${Math.round(streak / 100) / 10}s)` : ''
    return {
      state: 'failed',
      reason: `not healthy for ${settings.passForSeconds}s within ${settings.deadlineSeconds}s; last answer: ${describeProbe(last!)}${only}`,
    }
  }
  return {state: 'pending', healthyForMs: streak}
}

/**
 * The last answers for the report of a failed gate (`HTTP 503 {"status":"failing"...}`): the last
 * `count` that answered at all, then the newest probe if nothing answered it (the task had stopped).
 */
export function lastAnswers(probes: readonly Probe[], count = 3): string[] {
  const answered = probes.filter((p) => p.status !== null).slice(-count)
  const newest = probes.at(-1)
  const shown = newest && newest.status === null ? [...answered.slice(-(count - 1)), newest] : answered
  if (shown.length === 0 && newest) shown.push(newest)
  return shown.map((p) => `${new Date(p.at).toISOString()} ${p.status === null ? 'no answer' : `HTTP ${p.status}`}${p.detail ? ` ${p.detail}` : ''}`)
}

/** One GET of a health URL from the operator's machine. Never throws: failures are probes too. */
export async function probeHealth(url: string, timeoutMs: number, now: () => number = Date.now): Promise<Probe> {
  try {
    const response = await fetch(url, {signal: AbortSignal.timeout(timeoutMs), headers: {connection: 'close'}})
    const body = (await response.text()).replace(/\s+/g, ' ').trim().slice(0, 200)
    return {at: now(), status: response.status, detail: body}
  } catch (error) {
    const err = error as Error & {cause?: {code?: string}}
    return {at: now(), status: null, detail: err.cause?.code ?? err.name ?? String(error)}
  }
}
