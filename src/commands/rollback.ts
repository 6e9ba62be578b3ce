import {Flags} from '@oclif/core'
import {envServiceArgs, messageFlag} from '../deploy/command-flags.js'
import {changeFlags, CtlCommand} from '../lib/command.js'
import {requireConfirmation} from '../lib/prompt.js'
import {recordReleases} from '../deploy/releases-io.js'
import {acquireLock} from '../deploy/lock-run.js'
import {whileHolding} from '../locks/lock-run.js'
import {renderServiceOutcome} from '../deploy/render.js'
import {inventoryService, planRollback, rollbackService, type RollbackTarget} from '../deploy/service-run.js'
import type {ServiceOutcome} from '../deploy/service-rollout.js'

export interface RollbackResult {
  env: string
  service: string
  dryRun: boolean
  outcome: string
  target: RollbackTarget
  swarm?: ServiceOutcome
}

export default class Rollback extends CtlCommand {
  static override summary = 'Roll a Swarm service back to an earlier release (the previous good one, or --to any kept release), gated on /health.'
  static override description =
    "Picks the release from the history kept next to the deploy lock (`ctl releases`): the newest that ran fine with another image, or the one named by --to (its number or image tag). Shows the current and target image, asks, then rolls the service to it one batch at a time, each task gated on /health like a deploy (a failure goes back to what ran). Without any history, Swarm's previous spec is the target. Takes the deploy lock."
  static override examples = [
    '<%= config.bin %> rollback lab app',
    '<%= config.bin %> rollback lab app --to 12',
    '<%= config.bin %> rollback prod api --to 2024-06-01.3 --yes',
  ]
  static override args = envServiceArgs
  static override flags = {
    ...changeFlags,
    message: messageFlag,
    to: Flags.string({description: 'Release to go back to: its number in `ctl releases`, its image tag, or its digest (sha256:…)'}),
  }

  async run(): Promise<RollbackResult> {
    const {args, flags} = await this.parse(Rollback)
    const loaded = this.loadEnv(args.env)
    const service = inventoryService(loaded, args.service)
    const pool = this.sshPool(loaded)
    const target = await planRollback(pool, loaded, service, flags.to)
    this.auditContext = {...this.auditContext, detail: {service: service.name, from: target.from, to: target.to, message: flags.message}}
    if (!this.jsonEnabled())
      this.log(`${target.swarmName}: ${target.from} → ${target.to} ${target.release ? `(release ${target.release})` : '(previous spec)'}`)
    if (flags['dry-run']) {
      this.auditContext.outcome = 'dry-run'
      return {env: loaded.env, service: service.name, dryRun: true, outcome: 'dry-run', target}
    }
    // A "no" ends like every other decline: exit 2, nothing changed.
    await requireConfirmation({message: `Roll ${target.swarmName} back from ${target.from} to ${target.to}?`, yes: flags.yes})
    const lock = await acquireLock(pool, loaded, {
      version: `rollback ${service.name} to ${target.to}`,
      message: flags.message,
      forceUnlock: false,
      yes: flags.yes,
    })
    this.notifyStart(loaded, 'rollback', `${service.name} to ${target.to}`)
    return whileHolding(lock, async () => {
      const swarm = await rollbackService(pool, loaded, service, target)
      const outcome = swarm.outcome === 'updated' ? 'ok' : swarm.outcome
      if (outcome !== 'ok') this.markFailed(outcome)
      await recordReleases(
        pool,
        loaded,
        [{service: service.name, swarmName: target.swarmName, image: target.to, previousImage: target.from, kind: 'rollback', outcome}],
        flags.message,
      )
      this.auditContext = {
        ...this.auditContext,
        outcome,
        detail: {...(this.auditContext?.detail as object), reason: swarm.reason, finalImage: swarm.finalImage},
      }
      if (!this.jsonEnabled()) this.log(renderServiceOutcome(swarm))
      return {env: loaded.env, service: service.name, dryRun: false, outcome, target, swarm}
    })
  }
}
