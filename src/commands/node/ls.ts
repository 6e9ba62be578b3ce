import {CtlCommand, envArg} from '../../lib/command.js'
import {CtlError} from '../../lib/errors.js'
import {connectManager, listSwarmNodes, type ManagerHandle} from '../../swarm/cluster.js'
import {compareNodes, type NodeRow} from '../../swarm/node-report.js'
import {readService, serviceExists} from '../../deploy/swarm-io.js'
import {serviceUnfitness} from '../../deploy/swarm-state.js'

export interface NodeListResult {
  env: string
  /** The manager the swarm was read from; absent when none answered (see swarmError). */
  via?: string
  swarmError?: string
  nodes: NodeRow[]
  /** Rows with drift. */
  drifted: number
  /** The inventory's Swarm services that are not fit (paused update or rollback, tasks other than replicas). */
  unfitServices: {service: string; reason: string}[]
}

export default class NodeLs extends CtlCommand {
  static override summary = 'The inventory against the swarm: status, availability, role, leader, Engine, labels, drift.'
  static override description =
    'Reads the swarm from a manager (the leader when reachable) and lists every inventory node and every swarm node the inventory does not know. Drift (wrong role, not Ready, drained, labels that differ on managed keys, unknown nodes) is marked; the exit code is 1 when there is any.'
  static override examples = ['<%= config.bin %> node ls lab', '<%= config.bin %> node ls prod --json']
  static override args = {env: envArg}

  async run(): Promise<NodeListResult> {
    const {args} = await this.parse(NodeLs)
    const loaded = this.loadEnv(args.env)
    let manager: ManagerHandle | undefined
    let swarmError: string | undefined
    try {
      manager = await connectManager(this.sshPool(loaded), loaded.inventory)
    } catch (error) {
      // No manager answers: still list the inventory, every node marked as not in a swarm.
      if (!(error instanceof CtlError) || error.code !== 'swarm.no-manager') throw error
      swarmError = `${error.message}${error.hint ? `\nHint: ${error.hint}` : ''}`
    }
    this.auditContext = {...this.auditContext, hosts: manager ? [manager.node.name] : []}
    const rows = compareNodes(loaded.inventory, manager ? await listSwarmNodes(manager) : [])
    const drifted = rows.filter((r) => r.drift.length > 0).length
    const unfitServices: {service: string; reason: string}[] = []
    for (const svc of manager ? loaded.inventory.services.filter((s) => s.strategy === 'swarm' && s.stack) : []) {
      const name = `${svc.stack}_${svc.name}`
      const reason = (await serviceExists(manager!, name)) ? serviceUnfitness(await readService(manager!, name)) : undefined
      if (reason) unfitServices.push({service: name, reason})
    }
    if (!this.jsonEnabled()) {
      this.render(rows, manager?.node.name, drifted, swarmError)
      for (const u of unfitServices) this.log(`! service ${u.service}: ${u.reason}; ctl deploy ${loaded.env} repairs it`)
    }
    if (drifted > 0 || swarmError || unfitServices.length > 0) this.markFailed(swarmError ? 'no-swarm' : drifted > 0 ? 'drift' : 'service-unfit')
    return {env: loaded.env, via: manager?.node.name, swarmError, nodes: rows, drifted, unfitServices}
  }

  private render(rows: NodeRow[], via: string | undefined, drifted: number, swarmError?: string): void {
    const table = [
      ['NODE', 'ADDRESS', 'ROLE', 'STATUS', 'AVAILABILITY', 'LEADER', 'ENGINE', 'LABELS', 'DRIFT'],
      ...rows.map((r) => [
        r.name,
        r.address ?? '-',
        r.role ? (r.inventoryRole && r.inventoryRole !== r.role ? `${r.role} (inv: ${r.inventoryRole})` : r.role) : `- (inv: ${r.inventoryRole})`,
        r.status ?? '-',
        r.availability ?? '-',
        r.leader ? 'yes' : '',
        r.engineVersion ?? '-',
        Object.entries(r.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',') || '-',
        r.drift.length ? `! ${r.drift.join('; ')}` : 'ok',
      ]),
    ]
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
    for (const row of table) this.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    if (swarmError) this.log(swarmError)
    else this.log(`(read from ${via}) ${drifted === 0 ? 'No drift.' : `${drifted} node(s) drifted from the inventory.`}`)
  }
}
