import {Flags} from '@oclif/core'
import {gatherRestorePoints} from '../../backups/gather.js'
import {resticSecretsStdin} from '../../backups/restic.js'
import {drillTable} from '../../backups/render.js'
import {selectBackupLocations} from '../../backups/select.js'
import {chooseDrillTargets} from '../../backups/verify-plan.js'
import {runDrill, type DrillResult} from '../../backups/verify-run.js'
import {CtlCommand, envArg} from '../../lib/command.js'
import {CtlError, ExitCode} from '../../lib/errors.js'
import {withSpinner} from '../../lib/progress.js'
import {requireRestoreTime} from '../../runbooks/pitr-common.js'

export interface BackupVerifyResult {
  env: string
  dryRun: boolean
  /** The drills planned (--dry-run) or run. */
  drills: {series: string; node: string; path: string; at?: string; command?: string}[]
  results: DrillResult[]
  outcome: 'passed' | 'failed' | 'dry-run'
}

export default class BackupVerify extends CtlCommand {
  static override summary = 'Restore drill: restore a backup into a scratch server, start it, read every table, compare the row counts.'
  static override description = `For the newest complete backup of each series (or the one --path names), on the node that holds it: checks its files against their checksums (mariabackup: ctl's manifest; pg_dump: the recorded sha256), copies it into a private scratch directory under /var/tmp and starts a scratch server on it (a bare mariadbd, or a fresh PostgreSQL cluster the dump is restored into with pg_restore), with no network (a unix socket only) and never the production server or data. Then counts the rows of every table: each must be readable, and the counts must equal those recorded when the backup was taken (pg-backup: from the archive, in its .json record; mariadb-backup: on a scratch copy of the prepared backup, in its ctl-rows.tsv under the manifest). Older backups without a count record are checked for readable tables only. The scratch server and directory are removed however the drill ends.
The result is written next to the backup (<backup>.verify.json): ctl backup list shows it, ctl backup prune always keeps the newest backup a drill passed, and the preflight's backups check wants a passed drill younger than backups.drillMaxAgeDays when that is set.
The scratch copy needs as much free space in /var/tmp as the backup. Exit 1 when a drill fails.`
  static override examples = [
    '<%= config.bin %> backup verify lab',
    '<%= config.bin %> backup verify prod --database postgres --json',
    '<%= config.bin %> backup verify prod --path /var/backups/mariadb/20261201T101500 --dry-run',
    '<%= config.bin %> backup verify prod --component pgbackrest --at "2026-12-01 10:42:00"',
  ]
  static override args = {env: envArg}
  static override flags = {
    database: Flags.string({
      description: 'Only this database (pgbackrest: the newest backup in the pgBackRest repository)',
      options: ['mariadb', 'postgres', 'pgbackrest', 'redis', 'rabbitmq'],
      aliases: ['component'],
    }),
    at: Flags.string({
      description:
        'Drill a point in time: the newest pgBackRest backup finished by then, recovered to that time (WAL replayed up to it), every table counted. pgBackRest only.',
      exclusive: ['path'],
    }),
    path: Flags.string({description: 'Drill this restore point (a path ctl backup list shows)'}),
    'dry-run': Flags.boolean({description: 'Show which backups would be drilled where, and the drill script; run nothing.', default: false}),
  }

  async run(): Promise<BackupVerifyResult> {
    const {args, flags} = await this.parse(BackupVerify)
    const loaded = this.loadEnv(args.env)
    if (flags.at !== undefined && flags.database !== undefined && flags.database !== 'pgbackrest')
      throw new CtlError(`--at drills need archived WAL: pgbackrest only, not ${flags.database}`, {
        exitCode: ExitCode.cannotRun,
        code: 'backup.at-unsupported',
        hint: `For MariaDB, restore to a time with ctl runbook mariadb-restore ${args.env} --at TIME (a scratch server too).`,
      })
    const at = flags.at === undefined ? undefined : (requireRestoreTime(flags.at, {latest: false}) as Date)
    const locations = selectBackupLocations(loaded.inventory, flags.at === undefined ? flags.database : 'pgbackrest')
    this.auditContext = {...this.auditContext, hosts: [...new Set(locations.flatMap((l) => l.nodes))]}
    const pool = this.sshPool(loaded)
    const gathered = await gatherRestorePoints(pool, loaded, locations)
    for (const p of gathered.unlisted) this.warn(`${p.node}: not listed, its backups are not drilled: ${p.error}`)
    const unreadable = gathered.unlisted[0]
    if (flags.path !== undefined && unreadable && !gathered.points.some((p) => p.path === flags.path))
      throw new CtlError(`${flags.path} is not among the restore points that could be listed: ${unreadable.node}: ${unreadable.error}`, {
        host: unreadable.node,
        exitCode: ExitCode.cannotRun,
        code: 'backup.unlisted',
        hint: unreadable.hint,
      })
    const targets = chooseDrillTargets(gathered.points, {path: flags.path, env: loaded.env, ...(at ? {at} : {})})
    if (targets.length === 0)
      throw new CtlError('No complete backup to drill', {
        exitCode: ExitCode.cannotRun,
        code: 'backup.none',
        hint: `Take one first (ctl runbook mariadb-backup ${loaded.env}, ctl runbook pg-backup ${loaded.env}); ctl backup list ${loaded.env} shows what there is.`,
      })
    const drills = targets.map((t) => ({series: t.point.series, node: t.node, path: t.point.path, ...(at ? {at: at.toISOString()} : {})}))
    if (flags['dry-run']) {
      if (!this.jsonEnabled()) {
        for (const t of targets)
          this.log(`Would drill ${t.point.series}: ${t.node}:${t.point.path}, recording ${t.recordPath}\n  ${t.command.replaceAll('\n', '\n  ')}`)
        this.log('Dry run: nothing was run.')
      }
      this.auditContext.outcome = 'dry-run'
      return {
        env: loaded.env,
        dryRun: true,
        drills: targets.map((t) => ({series: t.point.series, node: t.node, path: t.point.path, command: t.command})),
        results: [],
        outcome: 'dry-run',
      }
    }
    const results: DrillResult[] = []
    for (const target of targets) {
      const label = `${target.point.series}: restore drill of ${target.node}:${target.point.path}`
      results.push(await withSpinner(label, async () => runDrill(pool, loaded.inventory, target, target.point.restic ? resticSecretsStdin(loaded) : undefined)))
    }
    if (!this.jsonEnabled()) {
      for (const line of drillTable(results)) this.log(line)
      for (const r of results) {
        for (const problem of r.record.problems) this.log(`! ${r.target.node}:${r.target.path}: ${problem}`)
        if (r.recordNotSaved) this.log(`! ${r.target.node}: the drill's record was not saved next to the backup: ${r.recordNotSaved}`)
      }
    }
    const failed = results.some((r) => r.record.outcome === 'failed')
    this.auditContext.detail = {drills: results.map((r) => ({path: r.target.path, outcome: r.record.outcome}))}
    if (failed) this.markFailed('drill-failed')
    return {env: loaded.env, dryRun: false, drills, results, outcome: failed ? 'failed' : 'passed'}
  }
}
