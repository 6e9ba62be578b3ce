import {Args} from '@oclif/core'
import {changeFlags, CtlCommand, envArg} from '../../lib/command.js'
import {CtlError, ExitCode} from '../../lib/errors.js'
import {findNode} from '../../inventory/load.js'
import {connectManager, listSwarmNodes, updateSwarmNode} from '../../swarm/cluster.js'
import {findSwarmNode} from '../../swarm/match.js'

export interface ActivateResult {
  env: string
  node: string
  /** Availability before this run. */
  was: string
  availability: 'active'
  changed: boolean
  dryRun: boolean
}

export default class NodeActivate extends CtlCommand {
  static override summary = 'Bring a drained (or paused) node back: availability active.'
  static override description =
    'The scheduler places new tasks on the node again. Running tasks do not move back by themselves; they spread again on the next update of each service (e.g. the next deploy).'
  static override examples = ['<%= config.bin %> node activate lab h2', '<%= config.bin %> node activate prod app-2 --json']
  static override args = {
    env: envArg,
    node: Args.string({description: 'Inventory name of the node', required: true}),
  }
  static override flags = {...changeFlags}

  async run(): Promise<ActivateResult> {
    const {args, flags} = await this.parse(NodeActivate)
    const loaded = this.loadEnv(args.env)
    const node = findNode(loaded, args.node)
    const manager = await connectManager(this.sshPool(loaded), loaded.inventory)
    this.auditContext = {...this.auditContext, hosts: [node.name, manager.node.name]}
    const view = findSwarmNode(node, await listSwarmNodes(manager))
    if (!view)
      throw new CtlError(`${node.name} (${node.address}) is not in the swarm`, {
        host: node.name,
        exitCode: ExitCode.cannotRun,
        hint: `Join it with \`ctl node bootstrap ${loaded.env}\`.`,
      })
    const result = {env: loaded.env, node: node.name, was: view.availability, availability: 'active' as const}
    if (view.availability === 'active') {
      this.say(`${node.name} is already active: no changes.`)
      this.auditContext.outcome = 'no-changes'
      return {...result, changed: false, dryRun: flags['dry-run']}
    }
    if (flags['dry-run']) {
      this.say(`Dry run: ${node.name} would go from ${view.availability} to active.`)
      this.auditContext.outcome = 'dry-run'
      return {...result, changed: false, dryRun: true}
    }
    await updateSwarmNode(manager, view, {Availability: 'active'}, `activate ${node.name}`)
    this.say(`${node.name} is active again (was ${view.availability}). Tasks return to it as services are updated.`)
    return {...result, changed: true, dryRun: false}
  }

  private say(text: string): void {
    if (!this.jsonEnabled()) this.log(text)
  }
}
