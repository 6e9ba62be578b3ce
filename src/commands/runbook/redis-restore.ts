import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {redisRestore} from '../../runbooks/redis-restore.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class RedisRestore extends RunbookCommand {
  static override summary = redisRestore.summary
  static override description = runbookDescription(redisRestore)
  static override examples = runbookExamples('redis-restore', 'prod --dry-run', 'prod --path /var/backups/ctl/redis/20261207T024000.rdb', 'lab --yes --json')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    path: Flags.string({description: 'The snapshot to restore (its path, as ctl backup list shows it); default: the newest complete one'}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(RedisRestore)
    return this.execute(redisRestore, args.env, flags, {path: flags.path})
  }
}
