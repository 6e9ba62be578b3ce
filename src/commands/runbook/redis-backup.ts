import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {redisBackup} from '../../runbooks/redis-backup.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class RedisBackup extends RunbookCommand {
  static override summary = redisBackup.summary
  static override description = runbookDescription(redisBackup)
  static override examples = runbookExamples('redis-backup', 'prod --dry-run', 'lab --yes --json')
  static override args = runbookArgs
  static override flags = {...runbookFlags}

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(RedisBackup)
    return this.execute(redisBackup, args.env, flags, {})
  }
}
