import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {etcdSnapshot} from '../../runbooks/etcd-snapshot.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class EtcdSnapshot extends RunbookCommand {
  static override summary = etcdSnapshot.summary
  static override description = runbookDescription(etcdSnapshot)
  static override examples = runbookExamples('etcd-snapshot', 'prod --dry-run', 'lab --yes --json')
  static override args = runbookArgs
  static override flags = {...runbookFlags}

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(EtcdSnapshot)
    return this.execute(etcdSnapshot, args.env, flags, {})
  }
}
