import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookFlags} from '../../runbooks/command.js'
import {pgBackup} from '../../runbooks/pg-backup.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class PgBackup extends RunbookCommand {
  static override summary = pgBackup.summary
  static override description = `${pgBackup.description}\n\nSteps: ctl runbook show pg-backup. Restore: ctl runbook pg-restore <env> --from <file>.`
  static override examples = ['<%= config.bin %> runbook pg-backup prod --db app', '<%= config.bin %> runbook pg-backup lab --db shop --json']
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
