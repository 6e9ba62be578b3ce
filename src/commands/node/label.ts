import {changeFlags, CtlCommand, envArg} from '../../lib/command.js'
import {requireConfirmation} from '../../lib/prompt.js'
import {connectManager, listSwarmNodes, updateSwarmNode} from '../../swarm/cluster.js'
import {describeLabelChange, managedLabelKeys, planLabelChanges, type NodeLabelPlan} from '../../swarm/labels.js'

export interface LabelResult {
  env: string
  managedKeys: string[]
  nodes: NodeLabelPlan[]
  /** Nodes whose labels were changed. */
  applied: string[]
  changed: boolean
  dryRun: boolean
}

export default class NodeLabel extends CtlCommand {
  static override summary = "Reconcile the swarm's node labels with the inventory (only the keys ctl manages)."
  static override description = `Compares every swarm node's labels with the inventory, for the managed keys only (swarm.managedLabelKeys, or else every key the inventory's nodes use): labels are added, changed or removed; labels with other keys are never touched.
Shows the diff, asks, then applies it through a manager (each node update carries the node's version, so a concurrent edit is refused rather than overwritten).`
  static override examples = ['<%= config.bin %> node label lab --dry-run', '<%= config.bin %> node label prod --yes --json']
  static override args = {env: envArg}
  static override flags = {...changeFlags}

  async run(): Promise<LabelResult> {
    const {args, flags} = await this.parse(NodeLabel)
    const loaded = this.loadEnv(args.env)
    const pool = this.sshPool(loaded)
    const manager = await connectManager(pool, loaded.inventory)
    this.auditContext = {...this.auditContext, hosts: [manager.node.name]}
    const swarmNodes = await listSwarmNodes(manager)
    const plans = planLabelChanges(loaded.inventory, swarmNodes)
    const managedKeys = managedLabelKeys(loaded.inventory)
    const pending = plans.filter((p) => p.changes.length > 0)
    const result = (applied: string[], dryRun = false): LabelResult => ({
      env: loaded.env,
      managedKeys,
      nodes: plans,
      applied,
      changed: applied.length > 0,
      dryRun,
    })

    if (!this.jsonEnabled()) {
      this.log(`Managed label keys: ${managedKeys.join(', ') || '(none)'}`)
      for (const p of plans) {
        const what = !p.swarmNodeId
          ? 'not in the swarm (run ctl node bootstrap first)'
          : p.changes.length === 0
            ? 'as in the inventory'
            : p.changes.map(describeLabelChange).join('  ')
        this.log(`  ${p.node.padEnd(16)} ${what}`)
      }
    }
    const missing = plans.filter((p) => !p.swarmNodeId).map((p) => p.node)
    if (missing.length > 0) this.markFailed('nodes-missing')
    if (pending.length === 0) {
      this.say('No changes: the labels match the inventory.')
      if (missing.length === 0) this.auditContext.outcome = 'no-changes'
      return result([])
    }
    if (flags['dry-run']) {
      this.say(`Dry run: labels of ${pending.length} node(s) would change; nothing was changed.`)
      this.auditContext.outcome = 'dry-run'
      return result([], true)
    }
    await requireConfirmation({message: `Change the labels of ${pending.map((p) => p.node).join(', ')} as shown?`, yes: flags.yes})
    const applied: string[] = []
    for (const plan of pending) {
      const view = swarmNodes.find((n) => n.id === plan.swarmNodeId)!
      await updateSwarmNode(manager, view, {Labels: plan.labelsAfter}, `label ${plan.node}`)
      applied.push(plan.node)
    }
    this.auditContext.detail = {applied: pending.map((p) => ({node: p.node, changes: p.changes}))}
    this.say(`Labels updated on ${applied.join(', ')}.`)
    return result(applied)
  }

  private say(text: string): void {
    if (!this.jsonEnabled()) this.log(text)
  }
}
