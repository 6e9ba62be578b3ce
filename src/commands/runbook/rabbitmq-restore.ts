import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {rabbitmqRestore} from '../../runbooks/rabbitmq-restore.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class RabbitmqRestore extends RunbookCommand {
  static override summary = rabbitmqRestore.summary
  static override description = runbookDescription(rabbitmqRestore)
  static override examples = runbookExamples(
    'rabbitmq-restore',
    'prod --dry-run',
    'prod --path /var/backups/ctl/rabbitmq/20261207T024500.definitions.json',
    'lab --yes --json',
  )
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    path: Flags.string({description: 'The backup to import (its path, as ctl backup list shows it); default: the newest complete one'}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(RabbitmqRestore)
    return this.execute(rabbitmqRestore, args.env, flags, {path: flags.path})
  }
}
