import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookFlags} from '../../runbooks/command.js'
import {galeraRecover} from '../../runbooks/galera-recover.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class GaleraRecover extends RunbookCommand {
  static override summary = galeraRecover.summary
  static override description = `${galeraRecover.description}\n\nSteps: ctl runbook show galera-recover. Journal and --resume: docs/RUNBOOKS.md.`
  static override examples = [
    '<%= config.bin %> runbook galera-recover prod --dry-run',
    '<%= config.bin %> runbook galera-recover prod',
    '<%= config.bin %> runbook galera-recover lab --yes --json',
    '<%= config.bin %> runbook galera-recover prod --resume',
  ]
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    'allow-unreachable': Flags.boolean({description: 'Go on without members that cannot be reached (asks first: their writes may be the most recent).', default: false}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(GaleraRecover)
    return this.execute(galeraRecover, args.env, flags, {allowUnreachable: flags['allow-unreachable']})
  }
}
