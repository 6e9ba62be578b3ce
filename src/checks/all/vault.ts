import {VaultClient} from '../../vault/client.js'
import {readCluster, type ClusterState} from '../../vault/cluster.js'
import {readCaCert, vaultMembers, vaultToken} from '../../vault/members.js'
import {plainHttpVaultMembers, PLAIN_HTTP_VAULT_HINT, PLAIN_HTTP_VAULT_RISK} from '../../inventory/warnings.js'
import type {Inventory} from '../../inventory/schema/index.js'
import type {CheckDefinition, Finding} from '../types.js'

/** A warning row when members are reached over plain http off loopback and the lab (the same rule as `ctl inventory validate`). */
export function judgeVaultTransport(inventory: Inventory): Finding[] {
  const plain = plainHttpVaultMembers(inventory)
  if (plain.length === 0) return []
  const where = plain.map((m) => `${m.node} (${m.address})`).join(', ')
  return [{target: 'transport', status: 'warn', detail: `plain http to ${where}: ${PLAIN_HTTP_VAULT_RISK}`, hint: PLAIN_HTTP_VAULT_HINT}]
}

/** Each member initialized and unsealed; one active; every member a Raft peer (when a token lets us read it). */
export function judgeVault(env: string, state: ClusterState & {raftError?: string}): Finding[] {
  const findings: Finding[] = state.statuses.map((s) => {
    if (!s.reachable)
      return {
        target: s.node,
        status: 'fail',
        detail: `API not answering: ${s.error ?? 'no answer'}`,
        hint: `Is Vault running on ${s.node}? Then: ctl vault status ${env}`,
      }
    if (!s.initialized)
      return {target: s.node, status: 'fail', detail: 'not initialized', hint: `ctl vault init ${env} (first node), joiners join the Raft cluster.`}
    if (s.sealed)
      return {
        target: s.node,
        status: 'fail',
        detail: `sealed (unseal progress ${s.progress ?? 0}/${s.threshold ?? '?'})`,
        hint: `ctl vault unseal ${env} --node ${s.node} with the key holders' shares.`,
      }
    return {target: s.node, status: 'pass', detail: `initialized, unsealed, ${s.haMode}${s.version ? `, ${s.version}` : ''}`}
  })
  const clusterProblems = state.verdict.problems.filter((p) => p === 'no node is active' || p.startsWith('more than one') || p.endsWith('is not a Raft peer'))
  if (clusterProblems.length > 0)
    findings.push({
      target: 'raft',
      status: 'fail',
      detail: clusterProblems.join('; '),
      hint: `ctl vault status ${env} shows each node's view; a node outside Raft joins with ctl vault unseal ${env} (it joins, then unseals).`,
    })
  else if (!state.verdict.peersChecked)
    findings.push({
      target: 'raft',
      status: 'warn',
      detail: `active ${state.verdict.active ?? 'none'}; Raft peers not checked (${state.raftError ?? 'no token'})`,
      hint: 'Give a token with read access to sys/storage/raft/configuration: vault.token in the inventory, or VAULT_TOKEN.',
    })
  else findings.push({target: 'raft', status: 'pass', detail: `active ${state.verdict.active}, ${state.servers?.length ?? 0} Raft peers`})
  return findings
}

export const vaultCheck: CheckDefinition = {
  id: 'vault',
  title: 'Vault: initialized, unsealed, Raft peers',
  needs: "HTTP(S) from here to each member's API; a token for the Raft peers",
  targets: (inventory) => (inventory.vault ? [{name: 'vault'}] : []),
  skipReason: 'no vault in the inventory',
  async run(ctx) {
    const members = vaultMembers(ctx.loaded)
    const ca = readCaCert(ctx.loaded)
    const clients = members.map((m) => new VaultClient(m, {ca, timeoutMs: Math.min(5000, ctx.timeoutMs)}))
    return [...judgeVaultTransport(ctx.inventory), ...judgeVault(ctx.inventory.name, await readCluster(clients, members, vaultToken(ctx.loaded)))]
  },
}
