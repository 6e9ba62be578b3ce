import {setTimeout as sleep} from 'node:timers/promises'
import {CtlError, toCtlError} from '../lib/errors.js'
import {runTasks, type Outcome} from '../lib/progress.js'
import {VaultClient, type RaftServer, type SealStatus} from './client.js'
import {haModeFromHealthCode, judgeCluster, type ClusterVerdict, type UnsealPlan, type VaultNodeStatus} from './plan.js'
import type {VaultMember} from './members.js'

/** The executor of the vault commands: reads and changes Vault members through their API. */

async function readNodeStatus(client: VaultClient): Promise<VaultNodeStatus> {
  const {node, apiUrl} = client.member
  try {
    const [seal, health] = await Promise.all([client.sealStatus(), client.health()])
    return {
      node,
      apiUrl,
      reachable: true,
      initialized: seal.initialized,
      sealed: seal.sealed,
      progress: seal.progress,
      threshold: seal.t,
      shares: seal.n,
      haMode: haModeFromHealthCode(health.status),
      version: seal.version,
    }
  } catch (error) {
    const e = toCtlError(error)
    return {node, apiUrl, reachable: false, error: e.hint ? `${e.message}. ${e.hint}` : e.message}
  }
}

export function readStatuses(clients: VaultClient[]): Promise<VaultNodeStatus[]> {
  return Promise.all(clients.map((c) => readNodeStatus(c)))
}

/** The Raft configuration as the active node (else any unsealed node, which forwards) sees it. */
async function readRaftServers(clients: VaultClient[], statuses: VaultNodeStatus[], token: string): Promise<RaftServer[]> {
  const unsealed = statuses.filter((s) => s.reachable && s.initialized && !s.sealed)
  const ordered = [...unsealed.filter((s) => s.haMode === 'active'), ...unsealed.filter((s) => s.haMode !== 'active')]
  const client = clients.find((c) => c.member.node === ordered[0]?.node)
  if (!client)
    throw new CtlError('No unsealed Vault node to read the Raft configuration from', {
      step: 'raft-configuration',
      hint: 'Unseal the nodes first: `ctl vault unseal <env>`.',
    })
  return client.raftServers(token)
}

/** Submits shares one by one until the node reports unsealed; returns its last seal status. */
export async function submitShares(client: VaultClient, shares: string[]): Promise<SealStatus> {
  let status = await client.sealStatus()
  for (const share of shares) {
    if (!status.sealed) break
    status = await client.submitShare(share)
  }
  if (status.sealed) {
    throw new CtlError(`${client.member.node} is still sealed after ${shares.length} share(s) (progress ${status.progress}/${status.t})`, {
      host: client.member.node,
      step: 'unseal',
      code: 'vault.still-sealed',
      hint: `It needs ${status.t} distinct shares of this cluster's keys.`,
    })
  }
  return status
}

export interface ClusterState {
  statuses: VaultNodeStatus[]
  servers?: RaftServer[]
  verdict: ClusterVerdict
}

export async function readCluster(clients: VaultClient[], members: VaultMember[], token: string | undefined): Promise<ClusterState & {raftError?: string}> {
  const statuses = await readStatuses(clients)
  let servers: RaftServer[] | undefined
  let raftError: string | undefined
  if (token) {
    try {
      servers = await readRaftServers(clients, statuses, token)
    } catch (error) {
      raftError = toCtlError(error).message
    }
  } else {
    raftError = 'no token: set vault.token in the inventory or export VAULT_TOKEN'
  }
  return {statuses, servers, raftError, verdict: judgeCluster(members, statuses, servers)}
}

/** Polls until the cluster is whole (Vault takes a moment to elect the active node) or time runs out. */
export async function waitForCluster(
  clients: VaultClient[],
  members: VaultMember[],
  token: string | undefined,
  timeoutMs: number,
  onWait?: (text: string) => void,
): Promise<ClusterState> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const state = await readCluster(clients, members, token)
    if ((state.verdict.ok && (state.verdict.peersChecked || !token)) || Date.now() >= deadline) return state
    onWait?.(`waiting for the cluster: ${state.verdict.problems.join('; ')}`)
    await sleep(500)
  }
}

/** Waits until some member is active, and returns it (joiners need an active leader). */
async function waitForActive(clients: VaultClient[], timeoutMs: number): Promise<VaultClient> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const statuses = await readStatuses(clients)
    const active = statuses.find((s) => s.haMode === 'active')
    if (active) return clients.find((c) => c.member.node === active.node)!
    if (Date.now() >= deadline) {
      throw new CtlError(`No Vault node became active within ${Math.round(timeoutMs / 1000)} s`, {
        step: 'wait-active',
        code: 'vault.no-active',
        hint: 'Raft needs a quorum of unsealed nodes: unseal more members (`ctl vault unseal <env>`), then look at `ctl vault status <env>`.',
      })
    }
    await sleep(500)
  }
}

export interface NodeOutcome {
  node: string
  action: 'unsealed' | 'joined+unsealed' | 'already-unsealed' | 'failed'
  error?: string
  hint?: string
}

/**
 * Unseals the plan's sealed nodes, then joins the uninitialized ones to the active node and unseals
 * them (a Shamir-sealed Raft joiner finishes its join with the shares). Every node gets its outcome;
 * one failure does not stop the others.
 */
export async function unsealMembers(
  clients: VaultClient[],
  plan: UnsealPlan,
  shares: string[],
  options: {ca?: string; activeTimeoutMs?: number} = {},
): Promise<NodeOutcome[]> {
  const byNode = (node: string) => clients.find((c) => c.member.node === node)!
  const outcomes: NodeOutcome[] = plan.skip.map((node) => ({node, action: 'already-unsealed'}))
  const record = (results: Map<string, Outcome<unknown>>, action: NodeOutcome['action']) => {
    for (const [node, outcome] of results) {
      outcomes.push(outcome.ok ? {node, action} : {node, action: 'failed', error: outcome.error.message, hint: outcome.error.hint})
    }
  }
  record(
    await runTasks(
      plan.unseal.map((node) => ({key: node, title: `unseal ${node}`})),
      (item) => submitShares(byNode(item.key), shares),
    ),
    'unsealed',
  )
  if (plan.join.length > 0) {
    let leader: VaultClient
    try {
      leader = await waitForActive(clients, options.activeTimeoutMs ?? 30_000)
    } catch (error) {
      const e = toCtlError(error)
      for (const node of plan.join) outcomes.push({node, action: 'failed', error: `not joined: ${e.message}`, hint: e.hint})
      return outcomes
    }
    const leaderAddr = leader.member.apiUrl.replace(/\/$/, '')
    // One joiner at a time, as Raft adds one voter at a time.
    record(
      await runTasks(
        plan.join.map((node) => ({key: node, title: `join ${node} to ${leader.member.node} and unseal`})),
        async (item, report) => {
          const client = byNode(item.key)
          await client.join(leaderAddr, options.ca)
          report.status('joined; submitting shares')
          return submitShares(client, shares)
        },
        {concurrency: 1},
      ),
      'joined+unsealed',
    )
  }
  return outcomes
}
