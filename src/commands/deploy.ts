import {Flags} from '@oclif/core'
import {messageFlag} from '../deploy/command-flags.js'
import {changeFlags, CtlCommand, envArg} from '../lib/command.js'
import {parseImageOverrides} from '../deploy/images.js'
import {acquireLock} from '../deploy/lock-run.js'
import {whileHolding} from '../locks/lock-run.js'
import type {ServicePlan} from '../deploy/plan.js'
import {deployPreflight, preflightBlockers, preflightError} from '../deploy/preflight.js'
import {executeDeploy, prepareDeploy} from '../deploy/deploy-run.js'
import {recordReleases} from '../deploy/releases-io.js'
import {releasesOfDeploy} from '../deploy/releases.js'
import {deployOutcome} from '../deploy/decide.js'
import {renderDeployPlan, renderServiceOutcome} from '../deploy/render.js'
import type {ServiceOutcome} from '../deploy/service-rollout.js'

export interface DeployResult {
  env: string
  dryRun: boolean
  /** ok, repaired, no-changes, dry-run, rolled-back, failed */
  outcome: string
  changes: ServicePlan[]
  services: ServiceOutcome[]
  notStarted: string[]
  lock?: {node: string; path: string; brokeLockOf?: string}
}

export default class Deploy extends CtlCommand {
  static override summary = 'Deploy the stacks: rolling, one task at a time, each gated on /health, rolled back on failure.'
  static override description = `Takes the deploy lock on the first manager, runs the quick preflight (hosts reachable, swarm healthy, node labels), uploads the inventory's stack files with ctl's override (images, update_config from the inventory's rollout) and runs \`docker stack deploy\`. Swarm replaces one batch (rollout.parallelism, start-first) and is held there until ctl's gate has passed it: each new task's /health (at the task, or through the load balancer, as the inventory says) must stay healthy for passForSeconds, and a task that fails after it was healthy fails the release at once; then the next batch, then a monitor window. Changed services are rolled one at a time. A failed release is rolled back by ctl to the spec that ran before (driven to a clean end, every old replica gated) and the report names the task and its last /health answers. A deploy of the running image over a paused or held service repairs it. Each release is recorded in the history (\`ctl releases\`).
The stack files are the truth: a service's image is the file's, unless --image overrides it. --service limits image changes to one service (the others keep their running image); other settings of the stack file apply to the whole stack.`
  static override examples = [
    '<%= config.bin %> deploy lab --dry-run --image app=v2',
    '<%= config.bin %> deploy lab --image app=v2',
    '<%= config.bin %> deploy prod --stack app --service api --image api=2024-06-01.3',
  ]
  static override args = {env: envArg}
  static override flags = {
    ...changeFlags,
    stack: Flags.string({description: 'Only this stack'}),
    service: Flags.string({description: 'Only change the image of this service (compose name)'}),
    image: Flags.string({description: "SERVICE=TAG (or SERVICE=IMAGE:TAG) instead of the stack file's image (repeatable)", multiple: true}),
    message: messageFlag,
    'force-unlock': Flags.boolean({description: 'Break a stale deploy lock (after confirmation) before deploying', default: false}),
    'skip-preflight': Flags.boolean({description: 'Do not run the quick preflight (not recommended)', default: false}),
  }

  async run(): Promise<DeployResult> {
    const {args, flags} = await this.parse(Deploy)
    const images = parseImageOverrides(flags.image)
    const loaded = this.loadEnv(args.env)
    const pool = this.sshPool(loaded)
    const {plan, manager} = await prepareDeploy(pool, loaded, {stack: flags.stack, service: flags.service, images})
    const base = {env: loaded.env, changes: plan.changes, services: [], notStarted: []}
    this.auditContext = {
      ...this.auditContext,
      hosts: [manager.node.name],
      detail: {changes: plan.changes.map(({swarmName, oldImage, newImage, action}) => ({swarmName, oldImage, newImage, action})), message: flags.message},
    }
    if (!this.jsonEnabled()) this.log(renderDeployPlan(plan))
    if (flags['dry-run']) {
      this.auditContext.outcome = 'dry-run'
      return {...base, dryRun: true, outcome: 'dry-run'}
    }
    const version = plan.changes.map((c) => `${c.service}=${c.newImage}`).join(', ') || 'no image changes'
    const lock = await acquireLock(pool, loaded, {version, message: flags.message, forceUnlock: flags['force-unlock'], yes: flags.yes})
    const lockInfo = {
      node: lock.node.name,
      path: lock.path,
      brokeLockOf: lock.broke ? `${lock.broke.holder ?? 'unknown'} since ${lock.broke.since ?? '?'}` : undefined,
    }
    this.notifyStart(loaded, 'deploy', version)
    return whileHolding(lock, async () => {
      if (!flags['skip-preflight']) {
        const blockers = preflightBlockers(await deployPreflight(loaded, pool))
        if (blockers.length > 0) throw preflightError(loaded.env, blockers)
      }
      const execution = await executeDeploy(pool, loaded, manager, plan)
      const outcome = deployOutcome(plan.changes, execution.services)
      await recordReleases(pool, loaded, releasesOfDeploy(plan.changes, execution.services), flags.message)
      this.auditContext = {
        ...this.auditContext,
        outcome,
        detail: {
          ...(this.auditContext?.detail as object),
          services: execution.services.map(({service, outcome: o, reason, finalImage, failedTask}) => ({service, outcome: o, reason, finalImage, failedTask})),
        },
      }
      if (outcome === 'rolled-back' || outcome === 'failed') this.markFailed(outcome)
      if (!this.jsonEnabled()) {
        for (const s of execution.services) this.log(renderServiceOutcome(s))
        if (execution.notStarted.length > 0) this.log(`Not deployed (an earlier service failed): ${execution.notStarted.join(', ')}`)
        this.log(
          outcome === 'ok'
            ? 'Deploy done.'
            : outcome === 'repaired'
              ? 'Repaired: every replica runs the spec and the update state is clean.'
              : outcome === 'no-changes'
                ? 'No image changes; stack settings re-applied.'
                : `Deploy ${outcome}.`,
        )
      }
      return {...base, dryRun: false, outcome, services: execution.services, notStarted: execution.notStarted, lock: lockInfo}
    })
  }
}
