import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

/** A Raft peer as Vault lists it in sys/storage/raft/configuration. */
export interface DoublePeer {
  nodeId: string
  /** http(s)://host:port of its API (where the double forwards to and joins through). */
  apiAddr: string
  /** host:port of its cluster address (reported only; the double runs no Raft protocol on it). */
  clusterAddr: string
}

/** What a Vault cluster shares after init; replicated to a node when it joins. */
export interface DoubleCluster {
  clusterId: string
  clusterName: string
  shares: number
  threshold: number
  /** sha256(clusterId + root key): checks a reconstructed key, as Vault checks it by opening its keyring. */
  keyCheck: string
  rootTokenHash: string
  peers: DoublePeer[]
  /** Grows with every membership change; the highest index wins when peers compare notes. */
  configIndex: number
}

/** The node's persistent state: survives a restart (which seals the node again). */
export interface DoubleNodeState {
  nodeId: string
  cluster?: DoubleCluster
}

const FILE = 'double-state.json'

export function loadState(dir: string, nodeId: string): DoubleNodeState {
  try {
    const state = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as DoubleNodeState
    return {...state, nodeId}
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {nodeId}
    throw error
  }
}

/** Written whole to a temporary file then renamed, so a crash never leaves half a state. */
export function saveState(dir: string, state: DoubleNodeState): void {
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const tmp = join(dir, `${FILE}.tmp`)
  writeFileSync(tmp, JSON.stringify(state, null, 2), {mode: 0o600})
  renameSync(tmp, join(dir, FILE))
}
