import {Flags} from '@oclif/core'
import {setTimeout as sleep} from 'node:timers/promises'
import {CtlCommand, envArg} from '../lib/command.js'
import {colourWanted} from '../lib/colour.js'
import {outputJson} from '../lib/light.js'
import {setProgressQuiet} from '../lib/progress.js'
import {gatherStatus, type ReusedRows} from '../status/gather.js'
import {buildStatus, reuseOffsite} from '../status/judge.js'
import type {StatusReport} from '../status/report.js'
import {renderStatus} from '../status/render.js'

export default class Status extends CtlCommand {
  static override summary = 'One screen in an incident: what is wrong first, then who is acting, nodes, services, clusters and backups.'
  static override description = [
    'Reads everything at once over one SSH connection per host: the fast checks (ssh, swarm, service health, Galera and its backup replica, Patroni, etcd, RabbitMQ, Redis, Vault, registry, backups), the swarm through a manager’s Engine API (nodes, services: image, running/desired replicas, update state), the release history (last release, by whom, when), the deploy and runbook locks on the hosts that hold them, and the newest lines of the shared history.',
    'Problems come first, worst first, causes before symptoms (a host, then the swarm, then the databases and brokers, then the services that stand on them). Colour on a terminal, plain otherwise (NO_COLOR, --no-color).',
    'Exit code: 0 no failure (warnings are listed); 1 something failed; 2 nothing failed but some part could not be read. --watch redraws until interrupted.',
  ].join('\n')
  static override examples = ['<%= config.bin %> status prod', '<%= config.bin %> status lab --json', '<%= config.bin %> status prod --watch --interval 10']
  static override args = {env: envArg}
  static override flags = {
    watch: Flags.boolean({description: 'Redraw every --interval seconds until interrupted (with --json: one JSON line per round).', default: false}),
    interval: Flags.integer({description: 'Seconds between rounds of --watch.', default: 5, min: 1}),
    timeout: Flags.integer({description: 'Seconds each check may take on one target (default: the checks’ own budgets).', min: 1}),
  }

  async run(): Promise<StatusReport> {
    const {args, flags} = await this.parse(Status)
    const loaded = this.loadEnv(args.env)
    // A read of the platform: nothing to audit or share, and no progress lines around one screen.
    this.auditContext = undefined
    setProgressQuiet(true)
    let offsite: ReusedRows | undefined
    const round = async (): Promise<StatusReport> => {
      const pool = this.sshPool(loaded)
      try {
        const reuse = offsite && reuseOffsite(offsite, Date.now()) ? offsite : undefined
        const facts = await gatherStatus(loaded, pool, {timeoutMs: flags.timeout && flags.timeout * 1000, ...(reuse ? {reuse} : {})})
        if (!reuse) offsite = {check: 'backups-offsite', rows: facts.rows.filter((r) => r.check === 'backups-offsite'), readAt: Date.now()}
        return buildStatus(facts)
      } finally {
        // --watch: a fresh connection each round, so a host that went down or came back is seen as it is now.
        pool.dispose()
      }
    }
    const colour = colourWanted(process.stdout)
    for (;;) {
      const report = await round()
      process.exitCode = report.exitCode
      if (!flags.watch) {
        if (!this.jsonEnabled()) for (const line of renderStatus(report, colour)) this.log(line)
        return report
      }
      // One JSON document a line (oclif's log is silent under --json), redacted like every JSON output.
      if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(outputJson(report))}\n`)
      else {
        // On a terminal the screen is redrawn in place; piped, each round follows the last.
        if (process.stdout.isTTY) process.stdout.write('\u001B[H\u001B[2J')
        for (const line of renderStatus(report, colour)) this.log(line)
        this.log(`(every ${flags.interval} s; Ctrl-C to stop)`)
      }
      await sleep(flags.interval * 1000)
    }
  }
}
