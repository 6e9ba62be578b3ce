/**
 * Galera facts as read from a node: grastate.dat, `--wsrep-recover` output and wsrep status
 * variables. Parsers only: no host is touched here.
 */

/** The uuid of a node that never joined a cluster. */
const ZERO_UUID = '00000000-0000-0000-0000-000000000000'

export interface Position {
  uuid: string
  seqno: number
}

export interface Grastate {
  uuid: string
  /** -1 while running or after a crash. */
  seqno: number
  safeToBootstrap: boolean
}

export interface WsrepStatus {
  /** Primary, non-Primary, Disconnected */
  clusterStatus: string
  clusterSize: number
  /** Synced, Donor/Desynced, Joining, Joined, Initialized ... */
  localState: string
  clusterUuid: string
  lastCommitted: number
  ready: boolean
}

/** Everything known about one member before deciding. */
export interface NodeFacts {
  node: string
  reachable: boolean
  /** Why it could not be reached (connection error). */
  error?: string
  /** mariadbd runs (per the inventory's status command). */
  running: boolean
  /** Present when it runs and answered SQL. */
  status?: WsrepStatus
  /** Why the SQL status query failed on a running node. */
  sqlError?: string
  grastate?: Grastate
  /** Position read by `mariadbd --wsrep-recover` on a stopped node whose grastate seqno is -1. */
  recovered?: Position
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function parseGrastate(text: string): Grastate | undefined {
  const fields = new Map<string, string>()
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+):\s*(\S*)\s*$/.exec(line)
    if (m) fields.set(m[1]!, m[2]!)
  }
  const uuid = fields.get('uuid')
  const seqno = Number(fields.get('seqno'))
  if (!uuid || !UUID.test(uuid) || !Number.isInteger(seqno)) return undefined
  return {uuid: uuid.toLowerCase(), seqno, safeToBootstrap: fields.get('safe_to_bootstrap') === '1'}
}

/** The last `WSREP: Recovered position: <uuid>:<seqno>` of a `--wsrep-recover` run. */
export function parseRecoveredPosition(text: string): Position | undefined {
  const matches = [...text.matchAll(/WSREP: Recovered position:\s*([0-9a-f-]{36}):(-?\d+)/gi)]
  const last = matches.at(-1)
  if (!last) return undefined
  return {uuid: last[1]!.toLowerCase(), seqno: Number(last[2])}
}

/**
 * Why `--wsrep-recover` gave no position, from its output: an InnoDB assertion (its crash recovery
 * aborts: the member's data is damaged, seen here as MariaDB 10.11's `tail.trx_no <= last_trx_no`
 * after a kill -9), another mariadbd holding the data files, or the first error line.
 */
export function recoverFailureCause(text: string): {cause: string; damaged: boolean} | undefined {
  const assertion = /Failing assertion: (.+)/.exec(text)
  if (assertion) return {cause: `InnoDB crash recovery aborted (assertion ${assertion[1]!.trim()})`, damaged: true}
  if (/Unable to lock .*ibdata1/.test(text)) return {cause: 'another mariadbd holds its data files', damaged: false}
  const error = /\[ERROR\] (.+)/.exec(text)
  return error ? {cause: error[1]!.trim(), damaged: false} : undefined
}

/** Parses `SHOW GLOBAL STATUS` output in batch mode (`name<TAB>value` lines). */
export function parseWsrepStatus(text: string): WsrepStatus | undefined {
  const vars = new Map<string, string>()
  for (const line of text.split('\n')) {
    const [name, ...rest] = line.split('\t')
    if (name && rest.length > 0) vars.set(name.trim().toLowerCase(), rest.join('\t').trim())
  }
  const clusterStatus = vars.get('wsrep_cluster_status')
  if (clusterStatus === undefined) return undefined
  return {
    clusterStatus,
    clusterSize: Number(vars.get('wsrep_cluster_size') ?? 0),
    localState: vars.get('wsrep_local_state_comment') ?? '',
    clusterUuid: (vars.get('wsrep_cluster_state_uuid') ?? '').toLowerCase(),
    lastCommitted: Number(vars.get('wsrep_last_committed') ?? -1),
    ready: vars.get('wsrep_ready') === 'ON',
  }
}

export function isPrimary(f: NodeFacts): boolean {
  return f.running && f.status?.clusterStatus === 'Primary'
}

export function isSynced(f: NodeFacts): boolean {
  return isPrimary(f) && f.status?.localState === 'Synced'
}

/**
 * The last committed position of a node as best known: live status when it runs, else grastate
 * when it holds a real seqno (clean stop), else the position recovered from InnoDB.
 */
export function knownPosition(f: NodeFacts): Position | undefined {
  if (f.running && f.status && f.status.lastCommitted >= 0 && f.status.clusterUuid && f.status.clusterUuid !== ZERO_UUID) {
    return {uuid: f.status.clusterUuid, seqno: f.status.lastCommitted}
  }
  if (f.recovered && f.recovered.seqno >= 0) return f.recovered
  if (f.grastate && f.grastate.seqno >= 0) return {uuid: f.grastate.uuid, seqno: f.grastate.seqno}
  return undefined
}

/** Every cluster uuid a node reports (status, grastate, recovery), ignoring the zero uuid. */
export function clusterUuidsOf(f: NodeFacts): string[] {
  const uuids = [f.status?.clusterUuid, f.grastate?.uuid, f.recovered?.uuid].filter((u): u is string => Boolean(u) && u !== ZERO_UUID)
  return [...new Set(uuids)]
}

/**
 * A member that never joined any cluster (fresh datadir: no grastate or the zero uuid, nothing
 * recovered): it holds no history, cannot be a bootstrap source, and joins by full state transfer.
 */
export function isFreshMember(f: NodeFacts): boolean {
  if (!f.reachable || f.running) return false
  const noGrastate = !f.grastate || f.grastate.uuid === ZERO_UUID
  const nothingRecovered = !f.recovered || f.recovered.uuid === ZERO_UUID
  return noGrastate && nothingRecovered
}

/** Needs `--wsrep-recover`: reachable, stopped, and its grastate does not hold a position. */
export function needsPositionRecovery(f: NodeFacts): boolean {
  return f.reachable && !f.running && !f.recovered && !(f.grastate && f.grastate.seqno >= 0)
}

export function formatPosition(p: Position | undefined): string {
  return p ? `${p.uuid}:${p.seqno}` : 'unknown'
}
