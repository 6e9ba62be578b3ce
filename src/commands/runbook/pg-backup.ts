import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {pgBackup} from '../../runbooks/pg-backup.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class PgBackup extends RunbookCommand {
  static override summary = pgBackup.summary
  static override description = runbookDescription(pgBackup, 'Restore: ctl runbook pg-restore <env> --from <file>.')
  static override examples = runbookExamples('pg-backup', 'prod --db app', 'lab --db shop --json')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    db: Flags.string({description: 'The database to dump (default: databases.patroni.database).'}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(PgBackup)
    return this.execute(pgBackup, args.env, flags, {db: flags.db})
  }
}
