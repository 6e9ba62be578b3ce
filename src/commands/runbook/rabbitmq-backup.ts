import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {rabbitmqBackup} from '../../runbooks/rabbitmq-backup.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class RabbitmqBackup extends RunbookCommand {
  static override summary = rabbitmqBackup.summary
  static override description = runbookDescription(rabbitmqBackup)
  static override examples = runbookExamples('rabbitmq-backup', 'prod --dry-run', 'lab --yes --json')
  static override args = runbookArgs
  static override flags = {...runbookFlags}

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(RabbitmqBackup)
    return this.execute(rabbitmqBackup, args.env, flags, {})
  }
}
