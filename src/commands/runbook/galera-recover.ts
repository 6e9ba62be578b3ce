import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {galeraRecover} from '../../runbooks/galera-recover.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class GaleraRecover extends RunbookCommand {
  static override summary = galeraRecover.summary
  static override description = runbookDescription(galeraRecover)
  static override examples = runbookExamples('galera-recover', 'prod --dry-run', 'prod', 'lab --yes --json', 'prod --resume')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    'allow-unreachable': Flags.boolean({
      description: 'Go on without members that cannot be reached (asks first: their writes may be the most recent).',
      default: false,
    }),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(GaleraRecover)
    return this.execute(galeraRecover, args.env, flags, {allowUnreachable: flags['allow-unreachable']})
  }
}
