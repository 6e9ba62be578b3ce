import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {etcdMemberReplace} from '../../runbooks/etcd-member-replace.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class EtcdMemberReplace extends RunbookCommand {
  static override summary = etcdMemberReplace.summary
  static override description = runbookDescription(etcdMemberReplace)
  static override examples = runbookExamples('etcd-member-replace', 'prod --dry-run', 'prod --member etcd-db2', 'lab --yes --json')
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    member: Flags.string({description: 'The member (its name in databases.etcd) to replace; default: the one unhealthy member'}),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(EtcdMemberReplace)
    return this.execute(etcdMemberReplace, args.env, flags, {member: flags.member})
  }
}
