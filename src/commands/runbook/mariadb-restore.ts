import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {mariadbRestore} from '../../runbooks/mariadb-restore.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class MariadbRestore extends RunbookCommand {
  static override summary = mariadbRestore.summary
  static override description = runbookDescription(mariadbRestore)
  static override examples = runbookExamples(
    'mariadb-restore',
    'prod --from /var/backups/ctl/mariadb/20261126T121500 --dry-run',
    'lab --from /var/lib/ctl-lab/h3/galera-backups/20261126T121500 --yes',
  )
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    from: Flags.string({description: 'The backup directory on the node (printed by mariadb-backup)', required: true}),
    node: Flags.string({
      char: 'n',
      description: 'The member holding the backup; it is restored and bootstraps (default: databases.galera.backupNode, else the first member)',
    }),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(MariadbRestore)
    return this.execute(mariadbRestore, args.env, flags, {from: flags.from, node: flags.node})
  }
}
