import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {mariadbBinlogArchive} from '../../runbooks/mariadb-binlog-archive.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class MariadbBinlogArchive extends RunbookCommand {
  static override summary = mariadbBinlogArchive.summary
  static override description = runbookDescription(mariadbBinlogArchive)
  static override examples = runbookExamples('mariadb-binlog-archive', 'prod', 'lab --yes --json')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    node: Flags.string({
      char: 'n',
      description: 'The server whose binary logs are archived (default: databases.galera.backupNode, else the backup replica, else the first member)',
    }),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(MariadbBinlogArchive)
    return this.execute(mariadbBinlogArchive, args.env, flags, {node: flags.node})
  }
}
