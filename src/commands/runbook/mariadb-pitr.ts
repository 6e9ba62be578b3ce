import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {mariadbPitr} from '../../runbooks/mariadb-pitr.js'
import type {RunbookRunResult} from '../../runbooks/types.js'
import {AT_DESCRIPTION, pitrRepoFlag} from './pg-pitr.js'

export default class MariadbPitr extends RunbookCommand {
  static override summary = mariadbPitr.summary
  static override description = runbookDescription(mariadbPitr)
  static override examples = runbookExamples(
    'mariadb-pitr',
    'prod --at "2026-12-01 10:42:00"',
    'lab --at 2026-12-01T10:42:00Z --json',
    'prod --at latest --repo offsite',
  )
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    at: Flags.string({description: AT_DESCRIPTION}),
    node: Flags.string({
      char: 'n',
      description: 'The member whose backups and binary logs are used (default: databases.galera.backupNode, else the first member)',
    }),
    repo: pitrRepoFlag(),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(MariadbPitr)
    return this.execute(mariadbPitr, args.env, flags, {at: flags.at ?? '', node: flags.node, repo: flags.repo as 'local' | 'offsite' | undefined})
  }
}
