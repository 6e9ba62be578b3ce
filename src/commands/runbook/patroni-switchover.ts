import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {patroniSwitchover} from '../../runbooks/patroni-switchover.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class PatroniSwitchover extends RunbookCommand {
  static override summary = patroniSwitchover.summary
  static override description = runbookDescription(patroniSwitchover)
  static override examples = runbookExamples(
    'patroni-switchover',
    'prod --dry-run',
    'prod',
    'lab --candidate pg-h2 --yes --json',
    'prod --candidate pg2 --scheduled-at 2030-01-31T03:00:00+01:00',
  )
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    candidate: Flags.string({description: 'The replica to promote (Patroni member name); without it, ctl asks among the healthy replicas.'}),
    'scheduled-at': Flags.string({description: 'Let Patroni switch over at this time (ISO 8601 with timezone, e.g. 2030-01-31T03:00:00Z).'}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(PatroniSwitchover)
    return this.execute(patroniSwitchover, args.env, flags, {candidate: flags.candidate, scheduledAt: flags['scheduled-at']})
  }
}
