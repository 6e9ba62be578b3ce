import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {redisRecover} from '../../runbooks/redis-recover.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class RedisRecover extends RunbookCommand {
  static override summary = redisRecover.summary
  static override description = runbookDescription(redisRecover)
  static override examples = runbookExamples('redis-recover', 'prod --dry-run', 'prod --from redis2', 'lab --yes --json')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    from: Flags.string({description: 'The member (its node) to start as master; default: the one with the most recent data (an older one is refused)'}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(RedisRecover)
    return this.execute(redisRecover, args.env, flags, {from: flags.from})
  }
}
