import type {LoadedInventory} from '../inventory/load.js'
import type {Inventory, InventoryNode} from '../inventory/schema/index.js'
import type {RemoteRunner, SshPool} from '../ssh/pool.js'
import type {HostFacts, OptionalFact} from './host-facts.js'

/**
 * A preflight check: one small module with an id, a title, what it needs, and a `run` that looks at
 * one target (a node, or the whole cluster) and says pass / warn / fail with a detail and a hint.
 * A check that cannot run (host down, tool missing) throws; the runner reports that as `error`.
 */

/** What a check found. `error` = could not run, `skip` = does not apply to this inventory. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'error' | 'skip'

/** A check's verdict on one target. */
export interface Finding {
  status: 'pass' | 'warn' | 'fail'
  detail: string
  /** What to try next; expected on warn and fail. */
  hint?: string
  /** Set by cluster-wide checks that report per host (e.g. clock skew). */
  target?: string
}

/** One row of the report. */
export interface CheckResult {
  check: string
  title: string
  /** A node name, or the cluster/service the check looked at. */
  target: string
  status: CheckStatus
  detail: string
  hint?: string
  durationMs: number
}

/** What a check runs against: a node, or a named cluster-wide thing (`swarm`, `galera`, a service). */
export interface CheckTarget {
  name: string
  node?: InventoryNode
}

export interface CheckContext {
  loaded: LoadedInventory
  inventory: Inventory
  /** Runs remote commands over the shared SSH pool; fails fast on hosts found unreachable. */
  remote: RemoteRunner
  /** The SSH pool itself, for the shared Engine API client (src/docker); check `isReachable` first. */
  pool: SshPool
  /** A node's host facts, read by one command per host per run and shared by the checks (src/checks/host-facts.ts). */
  hostFacts(node: InventoryNode): Promise<HostFacts>
  /** False for nodes the `ssh` check could not reach: cluster checks pick another member. */
  isReachable(node: InventoryNode): boolean
  /** The check's time budget; pass it to remote commands so they are killed on the host too. */
  timeoutMs: number
}

export interface CheckDefinition {
  id: string
  title: string
  /** What it needs to run, shown by `ctl check list` (e.g. "SSH, docker CLI on a manager"). */
  needs: string
  /** The targets in this inventory; an empty list means the check does not apply. */
  targets(inventory: Inventory): CheckTarget[]
  /** Why the check does not apply (shown when `targets` is empty). */
  skipReason?: string
  run(ctx: CheckContext, target: CheckTarget): Promise<Finding | Finding[]>
  /**
   * Whose host facts its run reads (`ctx.hostFacts`): the node of each target, or every node. Those
   * hosts' facts command is sent as soon as each is connected, while the others still connect.
   */
  readsHostFacts?: 'target' | 'every-node'
  /** Host facts this check judges beyond kernel, disk and memory: added to the one facts command per host. */
  facts?: readonly OptionalFact[]
  /** Overrides the default per-target time budget; a function for checks whose work grows with the nodes. */
  timeoutMs?: number | ((inventory: Inventory) => number)
}
