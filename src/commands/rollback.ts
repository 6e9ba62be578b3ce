import {envServiceArgs, messageFlag} from '../deploy/command-flags.js'
import {changeFlags, CtlCommand} from '../lib/command.js'
import {confirmAction} from '../lib/prompt.js'
import {acquireLock} from '../deploy/lock-run.js'
import {whileHolding} from '../locks/take.js'
import {renderServiceOutcome} from '../deploy/render.js'
import {inventoryService, planRollback, rollbackService, type RollbackTarget} from '../deploy/run-service.js'
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
  static override summary = "Roll a Swarm service back to its previous spec (Swarm's own rollback), gated on /health."
  static override description = 'Shows the current and previous image, asks, then runs `docker service rollback` and waits until every replica of the previous version passes the /health gate. Takes the deploy lock.'
  static override examples = ['<%= config.bin %> rollback lab app', '<%= config.bin %> rollback prod api --yes']
  static override args = envServiceArgs
  static override flags = {
    ...changeFlags,
    message: messageFlag,
  }

  async run(): Promise<RollbackResult> {
    const {args, flags} = await this.parse(Rollback)
    const loaded = this.loadEnv(args.env)
    const service = inventoryService(loaded, args.service)
    const pool = this.sshPool(loaded)
    const target = await planRollback(pool, loaded, service)
    this.auditContext = {...this.auditContext, detail: {service: service.name, from: target.from, to: target.to, message: flags.message}}
    if (!this.jsonEnabled()) this.log(`${target.swarmName}: ${target.from} → ${target.to} (previous spec)`)
    if (flags['dry-run']) {
      this.auditContext.outcome = 'dry-run'
      return {env: loaded.env, service: service.name, dryRun: true, outcome: 'dry-run', target}
    }
    if (!(await confirmAction({message: `Roll ${target.swarmName} back from ${target.from} to ${target.to}?`, yes: flags.yes}))) {
      this.auditContext.outcome = 'declined'
      return {env: loaded.env, service: service.name, dryRun: false, outcome: 'declined', target}
    }
    const lock = await acquireLock(pool, loaded, {version: `rollback ${service.name} to ${target.to}`, message: flags.message, forceUnlock: false, yes: flags.yes})
    return whileHolding(lock, async () => {
      const swarm = await rollbackService(pool, loaded, service)
      const outcome = swarm.outcome === 'rolled-back' ? 'ok' : 'failed'
      if (outcome !== 'ok') this.markFailed()
      this.auditContext = {...this.auditContext, outcome, detail: {...(this.auditContext?.detail as object), reason: swarm.reason, finalImage: swarm.finalImage}}
      if (!this.jsonEnabled()) this.log(renderServiceOutcome(swarm))
      return {env: loaded.env, service: service.name, dryRun: false, outcome, target, swarm}
    })
  }
}
