import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {rabbitmqRecover} from '../../runbooks/rabbitmq-recover.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class RabbitmqRecover extends RunbookCommand {
  static override summary = rabbitmqRecover.summary
  static override description = runbookDescription(rabbitmqRecover)
  static override examples = runbookExamples('rabbitmq-recover', 'prod --dry-run', 'prod --force-boot mq2', 'lab --yes --json')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    'force-boot': Flags.string({description: 'When the node that stopped last is lost for good: start this node with force_boot (DATA RISK)'}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(RabbitmqRecover)
    return this.execute(rabbitmqRecover, args.env, flags, {forceBoot: flags['force-boot']})
  }
}
