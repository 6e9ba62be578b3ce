/**
 * Pointing a sentinel at another master (`SENTINEL REMOVE` then `MONITOR`), as redis-recover does when
 * the master it starts is not the one the sentinels watched: Sentinel only ever promotes replicas it
 * knows, so it would never adopt a master started outside a failover. REMOVE forgets the master's
 * settings: the ones read before are set again. Pure.
 */

/** The settings carried over (SENTINEL SET); the password is set apart, from stdin. */
const CARRIED = ['down-after-milliseconds', 'failover-timeout', 'parallel-syncs'] as const

export interface SentinelSettings {
  quorum: number
  carried: [string, string][]
}

/** `SENTINEL master <name>` as redis-cli prints it without a terminal: one field, then its value, per line. */
function fieldsOf(stdout: string): Map<string, string> {
  const lines = stdout.split('\n').map((l) => l.trim())
  const fields = new Map<string, string>()
  for (let i = 0; i + 1 < lines.length; i += 2) fields.set(lines[i]!, lines[i + 1]!)
  return fields
}

export function parseSentinelMaster(stdout: string, members: number): SentinelSettings {
  const fields = fieldsOf(stdout)
  const quorum = Number(fields.get('quorum'))
  return {
    quorum: Number.isInteger(quorum) && quorum > 0 ? quorum : Math.floor(members / 2) + 1,
    carried: CARRIED.filter((k) => /^\d+$/.test(fields.get(k) ?? '')).map((k) => [k, fields.get(k)!]),
  }
}

/** redis-cli argument lists, in order; the auth-pass one gets the password from stdin (-x). */
export function repointArguments(
  masterName: string,
  address: string,
  port: number,
  settings: SentinelSettings,
): {remove: string[]; monitor: string[]; set?: string[]; authPass: string[]} {
  return {
    remove: ['SENTINEL', 'REMOVE', masterName],
    monitor: ['SENTINEL', 'MONITOR', masterName, address, String(port), String(settings.quorum)],
    ...(settings.carried.length > 0 ? {set: ['SENTINEL', 'SET', masterName, ...settings.carried.flat()]} : {}),
    authPass: ['SENTINEL', 'SET', masterName, 'auth-pass'],
  }
}

/** What a sentinel knows of the master: where it is, its flags (`master`; `s_down`, `o_down` when it does not answer), the replicas and other sentinels it found. */
export interface SentinelMasterView {
  address?: string
  port?: number
  flags: string[]
  replicas: number
  otherSentinels: number
}

export function parseSentinelMasterView(stdout: string): SentinelMasterView {
  const fields = fieldsOf(stdout)
  const port = Number(fields.get('port'))
  return {
    ...(fields.get('ip') ? {address: fields.get('ip')} : {}),
    ...(Number.isInteger(port) && port > 0 ? {port} : {}),
    flags: (fields.get('flags') ?? '').split(',').filter(Boolean),
    replicas: Number(fields.get('num-slaves') ?? 0) || 0,
    otherSentinels: Number(fields.get('num-other-sentinels') ?? 0) || 0,
  }
}

/** Why a sentinel's view is not yet the whole cluster under `address:port` (empty: it is). */
export function sentinelViewProblems(node: string, view: SentinelMasterView, address: string, port: number, members: number): string[] {
  const problems: string[] = []
  if (view.address !== address || view.port !== port) problems.push(`${node}'s sentinel watches ${view.address ?? '?'}:${view.port ?? '?'}`)
  else if (view.flags.join(',') !== 'master') problems.push(`${node}'s sentinel flags the master ${view.flags.join(',') || '?'}`)
  if (view.replicas < members - 1) problems.push(`${node}'s sentinel knows ${view.replicas} of ${members - 1} replicas`)
  if (view.otherSentinels < members - 1) problems.push(`${node}'s sentinel knows ${view.otherSentinels} of ${members - 1} other sentinels`)
  return problems
}
