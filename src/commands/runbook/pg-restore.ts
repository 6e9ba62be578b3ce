import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {pgRestore} from '../../runbooks/pg-restore.js'
import {pgPitr} from '../../runbooks/pg-pitr.js'
import {AT_DESCRIPTION, INTO_DESCRIPTION, pitrRepoFlag} from './pg-pitr.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class PgRestore extends RunbookCommand {
  static override summary = pgRestore.summary
  static override description = runbookDescription(pgRestore)
  static override examples = runbookExamples(
    'pg-restore',
    'prod --from ctl-prod-app-20261126T120000.dump',
    'prod --from /var/backups/ctl/postgres/prod-app-20261126T120000.dump --db app_check',
    'prod --from prod-app-20261126T120000.dump --db app --replace',
    'prod --at "2026-12-01 10:42:00"',
    'prod --at "2026-12-01 10:42:00" --db app --into app_before_incident',
  )
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    from: Flags.string({
      description: 'The archive: a path on the backup node, or a file name in databases.patroni.backupDir (required, except with --resume).',
    }),
    db: Flags.string({
      description:
        'The database to restore into (default: a new <db>_restored_<time>; with --replace: the database to replace). With --at --into: the database copied out of the restored server.',
    }),
    replace: Flags.boolean({
      description: "Replace the existing database named by --db (or the backup's) after a confirmation naming it; the old one is kept, renamed.",
      default: false,
    }),
    at: Flags.string({
      description: `${AT_DESCRIPTION} Runs the pg-pitr runbook (pgBackRest) into a scratch server instead of restoring a dump.`,
      exclusive: ['from', 'replace'],
    }),
    into: Flags.string({description: INTO_DESCRIPTION, dependsOn: ['at']}),
    repo: pitrRepoFlag(['at']),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(PgRestore)
    if (flags.at !== undefined)
      return this.execute(pgPitr, args.env, flags, {at: flags.at, db: flags.db, into: flags.into, repo: flags.repo as 'local' | 'offsite' | undefined})
    return this.execute(pgRestore, args.env, flags, {from: flags.from ?? '', db: flags.db, replace: flags.replace})
  }
}
