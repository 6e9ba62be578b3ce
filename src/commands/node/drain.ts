import {Args, Flags} from '@oclif/core'
import {changeFlags, CtlCommand, envArg} from '../../lib/command.js'
import {CtlError, ExitCode} from '../../lib/errors.js'
import {withSpinner} from '../../lib/progress.js'
import {requireConfirmation} from '../../lib/prompt.js'
import {findNode} from '../../inventory/load.js'
import {connectManager, listServices, listSwarmNodes, listTasks, updateSwarmNode} from '../../swarm/cluster.js'
import {drainRefusal, predictDrain, servicesOnNode, type DrainPrediction, type DrainProgress} from '../../swarm/drain.js'
import {waitForDrain} from '../../swarm/drain-run.js'
import {findSwarmNode} from '../../swarm/match.js'

export interface DrainResult {
  env: string
  node: string
  availability: 'drain'
  /** It was drained already before this run. */
  wasDrained: boolean
  prediction: DrainPrediction
  /** Where the tasks stand at the end (absent in a dry run). */
  progress?: DrainProgress & {timedOut: boolean}
  /** Every task that had to move runs elsewhere. */
  moved: boolean
  dryRun: boolean
  waitedMs: number
}

export default class NodeDrain extends CtlCommand {
  static override summary = 'Drain a node for maintenance and wait until its tasks run elsewhere.'
  static override description = `Sets the node's availability to drain, then waits until every replicated service that had a task there runs its replicas on other nodes. Tasks that cannot move (placement constraints that match no other node, host-mode ports taken everywhere else) are reported with the scheduler's reason; global services simply stop on the node.
Before changing anything it shows what will move where; \`ctl node activate\` brings the node back.`
  static override examples = ['<%= config.bin %> node drain lab h2 --dry-run', '<%= config.bin %> node drain prod app-2 --yes --timeout 600']
  static override args = {
    env: envArg,
    node: Args.string({description: 'Inventory name of the node to drain', required: true}),
  }
  static override flags = {
    ...changeFlags,
    timeout: Flags.integer({description: 'Seconds to wait for the tasks to move', default: 300}),
    force: Flags.boolean({description: 'Drain even when some tasks have nowhere to go (their services run short).', default: false}),
  }

  async run(): Promise<DrainResult> {
    const {args, flags} = await this.parse(NodeDrain)
    const loaded = this.loadEnv(args.env)
    const node = findNode(loaded, args.node)
    const manager = await connectManager(this.sshPool(loaded), loaded.inventory)
    this.auditContext = {...this.auditContext, hosts: [node.name, manager.node.name]}
    const nodes = await listSwarmNodes(manager)
    const view = findSwarmNode(node, nodes)
    if (!view)
      throw new CtlError(`${node.name} (${node.address}) is not in the swarm`, {
        host: node.name,
        exitCode: ExitCode.cannotRun,
        hint: `See \`ctl node ls ${loaded.env}\`.`,
      })
    const [services, tasks] = await Promise.all([listServices(manager), listTasks(manager, {'desired-state': ['running']})])
    const prediction = predictDrain(view, nodes, services, tasks)
    const moving = servicesOnNode(view.id, services, tasks).map((s) => s.view)
    const wasDrained = view.availability === 'drain'
    this.renderPrediction(node.name, prediction, wasDrained)
    const base = {env: loaded.env, node: node.name, availability: 'drain' as const, wasDrained, prediction, waitedMs: 0}

    if (flags['dry-run']) {
      this.say('Dry run: nothing was changed.')
      this.auditContext.outcome = 'dry-run'
      return {...base, moved: false, dryRun: true}
    }
    const refusal = drainRefusal(node.name, prediction, {wasDrained, force: flags.force})
    if (refusal) throw refusal
    if (!wasDrained) {
      await requireConfirmation({message: `Drain ${node.name}: its tasks stop there and start on other nodes. Go ahead?`, yes: flags.yes})
      await updateSwarmNode(manager, view, {Availability: 'drain'}, `drain ${node.name}`)
    }
    const started = Date.now()
    const progress = await withSpinner(`Waiting for the tasks of ${node.name} to run elsewhere`, (update) =>
      waitForDrain(manager, view.id, moving, {
        timeoutMs: flags.timeout * 1000,
        onProgress: (p) =>
          update(
            `Waiting for the tasks of ${node.name} to run elsewhere: ${p.waiting.map((w) => `${w.service} ${w.running}/${w.wanted}`).join(', ') || 'settling'}`,
          ),
      }),
    )
    const waitedMs = Date.now() - started
    const moved = progress.done
    this.renderOutcome(node.name, progress, moved, waitedMs, loaded.env)
    this.auditContext.detail = {cannotMove: progress.cannotMove, waiting: progress.waiting, timedOut: progress.timedOut}
    if (!moved) this.markFailed(progress.timedOut ? 'timed-out' : 'tasks-cannot-move')
    return {...base, progress, moved, dryRun: false, waitedMs}
  }

  private renderPrediction(name: string, p: DrainPrediction, wasDrained: boolean): void {
    if (this.jsonEnabled()) return
    if (wasDrained) this.log(`${name} is already drained; checking that its tasks run elsewhere.`)
    if (p.moves.length + p.cannotMove.length + p.stops.length === 0) this.log(`${name} runs no service tasks.`)
    for (const m of p.moves) this.log(`  move   ${m.service} (${m.tasks} task(s)) → ${m.to.join(', ')}`)
    for (const c of p.cannotMove) this.log(`  STUCK  ${c.service} (${c.tasks} task(s)): ${c.reason}`)
    for (const s of p.stops) this.log(`  stop   ${s.service} (global: one task per node, not moved)`)
  }

  private renderOutcome(name: string, progress: DrainProgress & {timedOut: boolean}, moved: boolean, waitedMs: number, env: string): void {
    if (this.jsonEnabled()) return
    if (moved) {
      this.log(`${name} is drained: its tasks run elsewhere (${(waitedMs / 1000).toFixed(1)} s). Bring it back with \`ctl node activate ${env} ${name}\`.`)
      return
    }
    for (const c of progress.cannotMove) this.log(`  cannot move ${c.service}: ${c.reason}`)
    for (const w of progress.waiting) this.log(`  not yet: ${w.service}: ${w.running}/${w.wanted} running elsewhere, ${w.onNode} still on ${name}`)
    this.log(
      `${name} stays drained${progress.timedOut ? ' (timed out waiting)' : ''}; the services above are short of replicas. Fix their placement, or \`ctl node activate ${env} ${name}\`.`,
    )
  }

  private say(text: string): void {
    if (!this.jsonEnabled()) this.log(text)
  }
}
