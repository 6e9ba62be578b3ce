import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {pgbackrestSetup} from '../../runbooks/pgbackrest-setup.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class PgbackrestSetup extends RunbookCommand {
  static override summary = pgbackrestSetup.summary
  static override description = runbookDescription(
    pgbackrestSetup,
    'Then: ctl runbook pgbackrest-backup <env>; restore to a time: ctl runbook pg-restore <env> --at TIME.',
  )
  static override examples = runbookExamples('pgbackrest-setup', 'prod --dry-run', 'lab --yes', 'prod --configs-only --yes')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    'configs-only': Flags.boolean({
      description: "Write pgBackRest's configs and stop (no stanza, no archiving change): the first step of a restore onto new hosts.",
      default: false,
    }),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(PgbackrestSetup)
    return this.execute(pgbackrestSetup, args.env, flags, {configsOnly: flags['configs-only']})
  }
}
