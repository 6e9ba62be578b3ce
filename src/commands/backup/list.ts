import {Flags} from '@oclif/core'
import {gatherRestorePoints, type NodeProblem} from '../../backups/gather.js'
import {restorePointTable} from '../../backups/render.js'
import type {RestorePoint} from '../../backups/restore-points.js'
import {selectBackupLocations} from '../../backups/select.js'
import {CtlCommand, envArg} from '../../lib/command.js'

export interface BackupListResult {
  env: string
  restorePoints: RestorePoint[]
  missingDirs: string[]
  /** Nodes that could not be listed: the list lacks what they hold. */
  unlisted: NodeProblem[]
}

export default class BackupList extends CtlCommand {
  static override summary = 'List every restore point: time, size, checksum, encrypted or not, where it is.'
  static override description = `Reads the backup directories of the inventory's databases (databases.galera and databases.patroni: backupDir on the backup node, else on every member), one command per node.
A pgBackRest repository (databases.patroni.pgbackrest) is listed by \`pgbackrest info\` on its node: every full, differential and incremental backup, encrypted or not.
A mariabackup backup is complete when ctl wrote its manifest (the checksum shown is the manifest's sha256, as the runbook printed it); a pg_dump archive when its record (.json) is there, and its size is compared with the recorded one. Exit 1 when a node could not be listed or a backup does not match its record.`
  static override examples = ['<%= config.bin %> backup list lab', '<%= config.bin %> backup list prod --database postgres --json']
  static override args = {env: envArg}
  static override flags = {
    database: Flags.string({
      description: 'Only this database (pgbackrest: the Patroni cluster’s pgBackRest repository)',
      options: ['mariadb', 'postgres', 'pgbackrest', 'redis', 'rabbitmq'],
    }),
  }

  async run(): Promise<BackupListResult> {
    const {args, flags} = await this.parse(BackupList)
    const loaded = this.loadEnv(args.env)
    const locations = selectBackupLocations(loaded.inventory, flags.database)
    this.auditContext = {...this.auditContext, hosts: [...new Set(locations.flatMap((l) => l.nodes))]}
    const gathered = await gatherRestorePoints(this.sshPool(loaded), loaded, locations)
    if (!this.jsonEnabled()) {
      if (gathered.points.length > 0) for (const line of restorePointTable(gathered.points)) this.log(line)
      else this.log('No restore point found.')
      for (const dir of gathered.missingDirs) this.log(`(${dir} does not exist yet: no backup was taken there)`)
      for (const p of gathered.unlisted) this.log(`! ${p.node}: not listed: ${p.error}${p.hint ? `\n  Hint: ${p.hint}` : ''}`)
    }
    if (gathered.unlisted.length > 0 || gathered.points.some((p) => p.problem)) this.markFailed(gathered.unlisted.length > 0 ? 'unlisted' : 'damaged')
    return {env: loaded.env, restorePoints: gathered.points, missingDirs: gathered.missingDirs, unlisted: gathered.unlisted}
  }
}
