import {Args} from '@oclif/core'
import {CtlCommand, envArg} from '../lib/command.js'
import {readReleases} from '../deploy/releases-io.js'
import type {Release} from '../deploy/releases.js'

export interface ReleasesResult {
  env: string
  service?: string
  releases: Release[]
}

export default class Releases extends CtlCommand {
  static override summary = 'The last releases of each service (image, who, when, message, outcome), newest first.'
  static override description =
    'Read from the release history kept next to the deploy lock on the lock node; deploys, reloads, rollbacks and repairs add to it. `ctl rollback <env> <service> --to <number>` goes back to one of them.'
  static override examples = ['<%= config.bin %> releases lab', '<%= config.bin %> releases lab app --json']
  static override args = {env: envArg, service: Args.string({description: 'Only this service'})}

  async run(): Promise<ReleasesResult> {
    const {args} = await this.parse(Releases)
    const loaded = this.loadEnv(args.env)
    const all = await readReleases(this.sshPool(loaded), loaded)
    const releases = all.filter((r) => !args.service || r.service === args.service).reverse()
    if (!this.jsonEnabled()) {
      if (releases.length === 0) this.log(`No releases recorded for ${loaded.env}${args.service ? ` ${args.service}` : ''}.`)
      const rows = [
        ['#', 'SERVICE', 'IMAGE', 'KIND', 'OUTCOME', 'WHEN', 'WHO', 'MESSAGE'],
        ...releases.map((r) => [String(r.id), r.service, r.image, r.kind, r.outcome, r.at, `${r.who}@${r.from}`, r.message]),
      ]
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
      if (releases.length > 0) for (const row of rows) this.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    }
    return {env: loaded.env, service: args.service, releases}
  }
}
