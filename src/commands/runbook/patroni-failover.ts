import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {patroniFailover} from '../../runbooks/patroni-failover.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class PatroniFailover extends RunbookCommand {
  static override summary = patroniFailover.summary
  static override description = runbookDescription(patroniFailover)
  static override examples = runbookExamples('patroni-failover', 'prod --candidate pg2 --dry-run', 'prod --candidate pg2', 'lab --candidate pg-h2 --yes --json')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    candidate: Flags.string({description: 'The replica to promote (Patroni member name); required, except with --resume.'}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(PatroniFailover)
    return this.execute(patroniFailover, args.env, flags, {candidate: flags.candidate ?? ''})
  }
}
