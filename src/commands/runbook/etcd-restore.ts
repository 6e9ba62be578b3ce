import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {etcdRestore} from '../../runbooks/etcd-restore.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class EtcdRestore extends RunbookCommand {
  static override summary = etcdRestore.summary
  static override description = runbookDescription(etcdRestore)
  static override examples = runbookExamples('etcd-restore', 'prod --dry-run', 'prod --snapshot etcd-20261207T010000Z.db', 'lab --yes --json')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    snapshot: Flags.string({description: 'The snapshot (its file name in databases.etcd.backupDir on the backup node); default: the newest'}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(EtcdRestore)
    return this.execute(etcdRestore, args.env, flags, {snapshot: flags.snapshot})
  }
}
