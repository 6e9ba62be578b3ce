import {CtlError, ExitCode} from '../lib/errors.js'
import type {RaftServer} from './client.js'
import type {VaultMember} from './members.js'

/**
 * Decisions of the vault commands, on observed facts only (no I/O): what state a node is in, where
 * init starts, what unseal has to do, and whether the cluster is whole.
 */

export type HaMode = 'active' | 'standby' | 'sealed' | 'uninitialized' | 'unknown'

/** What ctl saw of one Vault member. */
export interface VaultNodeStatus {
  node: string
  apiUrl: string
  reachable: boolean
  error?: string
  initialized?: boolean
  sealed?: boolean
  /** Shares submitted so far to a sealed node. */
  progress?: number
  threshold?: number
  shares?: number
  haMode?: HaMode
  version?: string
}

/** sys/health says the state with its status code (Vault's defaults). */
export function haModeFromHealthCode(code: number): HaMode {
  switch (code) {
    case 200:
      return 'active'
    case 429:
      return 'standby'
    case 501:
      return 'uninitialized'
    case 503:
      return 'sealed'
    default:
      return 'unknown'
  }
}

export interface InitPlan {
  /** Where sys/init runs; it becomes the first Raft peer and the leader the others join. */
  first: VaultMember
  joiners: VaultMember[]
}

/** Init starts on the first member, and only when every member answers and none is initialized. */
export function planInit(members: VaultMember[], statuses: VaultNodeStatus[]): InitPlan {
  const unreachable = statuses.filter((s) => !s.reachable)
  if (unreachable.length > 0) {
    throw new CtlError(`Cannot initialize: Vault does not answer on ${unreachable.map((s) => s.node).join(', ')}`, {
      exitCode: ExitCode.cannotRun,
      code: 'vault.unreachable',
      host: unreachable[0]!.node,
      step: 'preflight',
      hint: unreachable[0]!.error ?? 'Start Vault on every member first, then run init again.',
    })
  }
  const initialized = statuses.filter((s) => s.initialized)
  if (initialized.length > 0) {
    throw new CtlError(`Vault is already initialized (on ${initialized.map((s) => s.node).join(', ')}); nothing was changed`, {
      exitCode: ExitCode.cannotRun,
      code: 'vault.already-initialized',
      step: 'preflight',
      hint: 'Initializing again would need a fresh Raft storage. To bring sealed nodes up use `ctl vault unseal <env>`; `ctl vault status <env>` shows each node.',
    })
  }
  const [first, ...joiners] = members
  if (!first) throw new CtlError('No Vault members in the inventory', {exitCode: ExitCode.cannotRun})
  return {first, joiners}
}

export interface UnsealPlan {
  /** Initialized and sealed: they get the shares first. */
  unseal: string[]
  /** Not initialized yet while the cluster is: join the active node, then unseal. */
  join: string[]
  /** Already unsealed. */
  skip: string[]
  /** Shares needed per node. */
  threshold: number
}

/** Which of the selected members need shares, which need to join first, and how many shares it takes. */
export function planUnseal(statuses: VaultNodeStatus[], selected: string[]): UnsealPlan {
  const chosen = statuses.filter((s) => selected.includes(s.node))
  const unreachable = chosen.filter((s) => !s.reachable)
  if (unreachable.length > 0) {
    throw new CtlError(`Vault does not answer on ${unreachable.map((s) => s.node).join(', ')}`, {
      exitCode: ExitCode.cannotRun,
      code: 'vault.unreachable',
      host: unreachable[0]!.node,
      hint: `${unreachable[0]!.error ?? 'Start Vault there'}; or leave it out with --node.`,
    })
  }
  const initialized = statuses.filter((s) => s.reachable && s.initialized)
  if (initialized.length === 0) {
    throw new CtlError('Vault is not initialized on any member', {
      exitCode: ExitCode.cannotRun,
      code: 'vault.not-initialized',
      hint: 'Run `ctl vault init <env>` first.',
    })
  }
  const thresholds = new Set(initialized.map((s) => s.threshold))
  if (thresholds.size !== 1) {
    throw new CtlError(`Members disagree on the key threshold (${[...thresholds].join(', ')}): they are not one cluster`, {
      exitCode: ExitCode.cannotRun,
      code: 'vault.split-cluster',
      hint: '`ctl vault status <env>` shows each node; a node initialized on its own must be wiped and joined again.',
    })
  }
  return {
    unseal: chosen.filter((s) => s.initialized && s.sealed).map((s) => s.node),
    join: chosen.filter((s) => !s.initialized).map((s) => s.node),
    skip: chosen.filter((s) => s.initialized && !s.sealed).map((s) => s.node),
    threshold: [...thresholds][0]!,
  }
}

export interface ClusterVerdict {
  ok: boolean
  active?: string
  /** False when the Raft configuration could not be read (no token): membership is then unknown. */
  peersChecked: boolean
  problems: string[]
}

/** The cluster is whole when every member is unsealed, listed as a Raft peer (when known), and exactly one is active. */
export function judgeCluster(members: VaultMember[], statuses: VaultNodeStatus[], servers: RaftServer[] | undefined): ClusterVerdict {
  const problems: string[] = []
  for (const s of statuses) {
    if (!s.reachable) problems.push(`${s.node} does not answer`)
    else if (!s.initialized) problems.push(`${s.node} is not initialized`)
    else if (s.sealed) problems.push(`${s.node} is sealed`)
  }
  const active = statuses.filter((s) => s.haMode === 'active')
  if (active.length === 0) problems.push('no node is active')
  if (active.length > 1) problems.push(`more than one node is active: ${active.map((s) => s.node).join(', ')}`)
  if (servers !== undefined) {
    for (const m of members) {
      if (!servers.some((s) => s.node_id === m.node || s.address.startsWith(`${m.address}:`))) problems.push(`${m.node} is not a Raft peer`)
    }
  }
  return {ok: problems.length === 0, active: active.length === 1 ? active[0]!.node : undefined, peersChecked: servers !== undefined, problems}
}

/**
 * Key shares from a keys file or stdin: the JSON ctl (or `vault operator init -format=json`)
 * writes, or one share per line (blank lines and `#` comments ignored).
 */
export function parseKeyShares(text: string): string[] {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    let parsed: Record<string, unknown>
    try {
      parsed = JSON.parse(trimmed)
    } catch {
      throw new CtlError('The keys input looks like JSON but does not parse', {
        exitCode: ExitCode.cannotRun,
        hint: 'Give the keys file ctl wrote, or one share per line.',
      })
    }
    for (const field of ['unseal_keys_b64', 'unseal_keys_hex', 'keys_base64', 'keys']) {
      const value = parsed[field]
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[]
    }
    throw new CtlError('The keys JSON has no unseal_keys_b64, unseal_keys_hex, keys_base64 or keys list', {exitCode: ExitCode.cannotRun})
  }
  return trimmed
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
}
