import {envServiceArgs, messageFlag} from '../deploy/command-flags.js'
import {changeFlags, CtlCommand} from '../lib/command.js'
import {acquireLock} from '../deploy/lock-run.js'
import {whileHolding} from '../locks/lock-run.js'
import {recordReleases} from '../deploy/releases-io.js'
import {reloadHosts, type HostReload} from '../deploy/reload-hosts.js'
import {renderServiceOutcome} from '../deploy/render.js'
import {inventoryService, reloadSwarmService} from '../deploy/service-run.js'
import type {ServiceOutcome} from '../deploy/service-rollout.js'

export interface ReloadResult {
  env: string
  service: string
  strategy: 'swarm' | 'hosts'
  dryRun: boolean
  outcome: string
  durationMs: number
  swarm?: ServiceOutcome
  hosts?: HostReload[]
}

export default class Reload extends CtlCommand {
  static override summary = 'Restart a service without a new image, one task (or host) at a time, gated on /health.'
  static override description = `Swarm services: \`docker service update --force\` under the inventory's rollout (start-first, one at a time), each new task must pass ctl's /health gate; a failure rolls the service back. Hosts-strategy services (no Swarm): on each host in turn, the inventory's reloadCommand over SSH, then that host's /health must pass before the next; the first failure stops. Takes the deploy lock.`
  static override examples = ['<%= config.bin %> reload lab app', '<%= config.bin %> reload lab legacy --dry-run']
  static override args = envServiceArgs
  static override flags = {
    ...changeFlags,
    message: messageFlag,
  }

  async run(): Promise<ReloadResult> {
    const {args, flags} = await this.parse(Reload)
    const loaded = this.loadEnv(args.env)
    const service = inventoryService(loaded, args.service)
    const base = {env: loaded.env, service: service.name, strategy: service.strategy}
    this.auditContext = {...this.auditContext, hosts: service.hosts, detail: {service: service.name, strategy: service.strategy, message: flags.message}}
    if (flags['dry-run']) {
      if (!this.jsonEnabled())
        this.log(
          service.strategy === 'hosts'
            ? `Would run ${service.reloadCommand!.join(' ')} on ${service.hosts!.join(', then ')}, each gated on /health.`
            : `Would force-update ${service.stack}_${service.name}, one task at a time, gated on /health.`,
        )
      this.auditContext.outcome = 'dry-run'
      return {...base, dryRun: true, outcome: 'dry-run', durationMs: 0}
    }
    const pool = this.sshPool(loaded)
    const lock = await acquireLock(pool, loaded, {version: `reload ${service.name}`, message: flags.message, forceUnlock: false, yes: flags.yes})
    const started = Date.now()
    this.notifyStart(loaded, 'reload', service.name)
    return whileHolding(lock, async () => {
      if (service.strategy === 'hosts') {
        const hosts = await reloadHosts(pool, loaded, service, (text) => this.jsonEnabled() || this.logToStderr(text))
        const outcome = hosts.every((h) => h.outcome === 'reloaded') ? 'ok' : 'failed'
        if (outcome !== 'ok') this.markFailed()
        this.auditContext = {...this.auditContext, outcome, detail: {...(this.auditContext?.detail as object), hosts}}
        if (!this.jsonEnabled()) {
          for (const h of hosts)
            this.log(
              `${h.host}: ${h.outcome}${h.durationMs ? ` in ${(h.durationMs / 1000).toFixed(1)} s` : ''}${h.reason ? `: ${h.reason}` : ''}${h.lastAnswers ? `\n    ${h.lastAnswers.join('\n    ')}` : ''}`,
            )
        }
        return {...base, dryRun: false, outcome, durationMs: Date.now() - started, hosts}
      }
      const swarm = await reloadSwarmService(pool, loaded, service)
      const outcome = swarm.outcome === 'updated' ? 'ok' : swarm.outcome
      if (outcome !== 'ok') this.markFailed(outcome)
      await recordReleases(
        pool,
        loaded,
        [{service: service.name, swarmName: swarm.swarmName, image: swarm.finalImage, previousImage: swarm.finalImage, kind: 'reload', outcome}],
        flags.message,
      )
      this.auditContext = {
        ...this.auditContext,
        outcome,
        detail: {...(this.auditContext?.detail as object), reason: swarm.reason, failedTask: swarm.failedTask},
      }
      if (!this.jsonEnabled()) this.log(renderServiceOutcome(swarm))
      return {...base, dryRun: false, outcome, durationMs: Date.now() - started, swarm}
    })
  }
}
