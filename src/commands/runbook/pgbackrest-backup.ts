import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {pgbackrestBackup} from '../../runbooks/pgbackrest-backup.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class PgbackrestBackup extends RunbookCommand {
  static override summary = pgbackrestBackup.summary
  static override description = runbookDescription(pgbackrestBackup, 'Restore to a time: ctl runbook pg-restore <env> --at TIME.')
  static override examples = runbookExamples('pgbackrest-backup', 'prod', 'prod --type diff', 'lab --type incr --json', 'prod --repo offsite')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    type: Flags.string({
      description: 'full, diff (changes since the last full) or incr (since the last backup).',
      options: ['full', 'diff', 'incr'],
      default: 'full',
    }),
    repo: Flags.string({
      description: 'local: the repository node (repo1); offsite: the S3 repository (repo2, backups.offsite).',
      options: ['local', 'offsite'],
      default: 'local',
    }),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(PgbackrestBackup)
    return this.execute(pgbackrestBackup, args.env, flags, {type: flags.type as 'full' | 'diff' | 'incr', repo: flags.repo as 'local' | 'offsite'})
  }
}
