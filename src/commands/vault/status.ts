import {Flags} from '@oclif/core'
import {CtlCommand, envArg} from '../../lib/command.js'
import type {RaftServer} from '../../vault/client.js'
import {readCluster} from '../../vault/cluster.js'
import {vaultTargets, vaultToken} from '../../vault/members.js'
import type {ClusterVerdict, VaultNodeStatus} from '../../vault/plan.js'
import {raftLines, statusTable} from '../../vault/render.js'

export interface VaultStatusResult {
  env: string
  nodes: VaultNodeStatus[]
  raft: {servers?: RaftServer[]; error?: string}
  verdict: ClusterVerdict
}

export default class VaultStatus extends CtlCommand {
  static override summary = 'Show each Vault node: initialized, sealed, unseal progress, HA mode, Raft peers.'
  static override description =
    'Reads sys/seal-status and sys/health of every member (no token needed) and, with a token (vault.token in the inventory or $VAULT_TOKEN), the Raft configuration from the active node. Exits 1 when the cluster is not whole: a node sealed or unreachable, not exactly one active, or a member missing from Raft.'
  static override examples = ['<%= config.bin %> vault status lab', 'VAULT_TOKEN=... <%= config.bin %> vault status prod --json']
  static override args = {env: envArg}
  static override flags = {
    node: Flags.string({char: 'n', description: 'Only this Vault member (repeatable)', multiple: true}),
  }

  async run(): Promise<VaultStatusResult> {
    const {args, flags} = await this.parse(VaultStatus)
    const loaded = this.loadEnv(args.env)
    const {all, selected: members, clients} = vaultTargets(loaded, flags.node)
    this.auditContext = {...this.auditContext, hosts: members.map((m) => m.node)}
    const state = await readCluster(clients, all, vaultToken(loaded))
    const nodes = state.statuses.filter((s) => members.some((m) => m.node === s.node))
    if (!this.jsonEnabled()) {
      for (const line of statusTable(nodes, state.servers)) this.log(line)
      if (state.servers) {
        this.log(`Raft peers (${state.servers.length}):`)
        for (const line of raftLines(state.servers)) this.log(line)
      } else {
        this.log(`Raft peers: not read (${state.raftError})`)
      }
      this.log(state.verdict.ok ? `Cluster OK: ${state.verdict.active} active.` : `Cluster NOT OK: ${state.verdict.problems.join('; ')}`)
    }
    if (!state.verdict.ok) this.markFailed('not-whole')
    return {env: loaded.env, nodes, raft: {servers: state.servers, error: state.raftError}, verdict: state.verdict}
  }
}
