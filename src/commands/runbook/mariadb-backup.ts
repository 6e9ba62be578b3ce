import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {mariadbBackup} from '../../runbooks/mariadb-backup.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class MariadbBackup extends RunbookCommand {
  static override summary = mariadbBackup.summary
  static override description = runbookDescription(mariadbBackup)
  static override examples = runbookExamples('mariadb-backup', 'prod', 'lab --node h2 --json')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    node: Flags.string({char: 'n', description: 'The member to back up (default: databases.galera.backupNode, else the first member)'}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(MariadbBackup)
    return this.execute(mariadbBackup, args.env, flags, {node: flags.node})
  }
}
