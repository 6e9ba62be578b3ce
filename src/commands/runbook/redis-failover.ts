import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {redisFailover} from '../../runbooks/redis-failover.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class RedisFailover extends RunbookCommand {
  static override summary = redisFailover.summary
  static override description = runbookDescription(redisFailover)
  static override examples = runbookExamples('redis-failover', 'prod --dry-run', 'prod --to redis2', 'lab --yes --json')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    to: Flags.string({description: 'The replica (its node) to promote; default: the healthy replica with the least lag'}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(RedisFailover)
    return this.execute(redisFailover, args.env, flags, {to: flags.to})
  }
}
