import {Flags} from '@oclif/core'
import {RunbookCommand, runbookArgs, runbookDescription, runbookExamples, runbookFlags} from '../../runbooks/command.js'
import {mariadbRestore} from '../../runbooks/mariadb-restore.js'
import {mariadbPitr} from '../../runbooks/mariadb-pitr.js'
import {AT_DESCRIPTION, pitrRepoFlag} from './pg-pitr.js'
import type {RunbookRunResult} from '../../runbooks/types.js'

export default class MariadbRestore extends RunbookCommand {
  static override summary = mariadbRestore.summary
  static override description = runbookDescription(mariadbRestore)
  static override examples = runbookExamples(
    'mariadb-restore',
    'prod --from /var/backups/ctl/mariadb/20261126T121500 --dry-run',
    'lab --from /var/lib/ctl-lab/h3/galera-backups/20261126T121500 --yes',
    'prod --at "2026-12-01 10:42:00"',
    'prod --at latest --repo offsite',
  )
  static override args = runbookArgs
  static override flags = {
    ...runbookFlags,
    from: Flags.string({description: 'The backup directory on the node (printed by mariadb-backup); required unless --at'}),
    at: Flags.string({
      description: `${AT_DESCRIPTION} Runs the mariadb-pitr runbook (a backup, then the binary logs) into a scratch server instead of restoring the cluster.`,
      exclusive: ['from'],
    }),
    node: Flags.string({
      char: 'n',
      description: 'The member holding the backup; it is restored and bootstraps (default: databases.galera.backupNode, else the first member)',
    }),
    repo: pitrRepoFlag(['at']),
  }

  async run(): Promise<RunbookRunResult> {
    const {args, flags} = await this.parse(MariadbRestore)
    if (flags.at !== undefined)
      return this.execute(mariadbPitr, args.env, flags, {at: flags.at, node: flags.node, repo: flags.repo as 'local' | 'offsite' | undefined})
    return this.execute(mariadbRestore, args.env, flags, {from: flags.from ?? '', node: flags.node})
  }
}
