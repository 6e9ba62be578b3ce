import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {pgPitr} from '../../runbooks/pg-pitr.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export const AT_DESCRIPTION =
  'The point in time: "2026-12-01 10:42:00" (local time here) or with a zone (2026-12-01T10:42:00Z); transactions committed after it are not restored. "latest": everything archived.'

/** --repo of a point-in-time restore (pg-pitr, pg-restore --at). */
export const pitrRepoFlag = (dependsOn?: string[]) =>
  Flags.string({
    ...(dependsOn ? {dependsOn} : {}),
    description:
      'Restore only from this repository: local (the repository node) or offsite (backups.offsite, e.g. after losing the repository node). Default: whichever holds the chosen backup.',
    options: ['local', 'offsite'],
  })
export const INTO_DESCRIPTION = 'Copy --db of the restored server into this NEW database on the cluster (refused when it exists), rows compared.'

export default class PgPitr extends RunbookCommand {
  static override summary = pgPitr.summary
  static override description = runbookDescription(pgPitr)
  static override examples = runbookExamples(
    'pg-pitr',
    'prod --at "2026-12-01 10:42:00"',
    'lab --at 2026-12-01T10:42:00Z --json',
    'prod --at latest',
    'prod --at "2026-12-01 10:42:00" --db app --into app_before_incident',
  )
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    at: Flags.string({description: AT_DESCRIPTION}),
    db: Flags.string({description: 'With --into: the database of the restored server to copy (default: databases.patroni.database).'}),
    into: Flags.string({description: INTO_DESCRIPTION}),
    repo: pitrRepoFlag(),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(PgPitr)
    return this.execute(pgPitr, args.env, flags, {at: flags.at ?? '', db: flags.db, into: flags.into, repo: flags.repo as 'local' | 'offsite' | undefined})
  }
}
