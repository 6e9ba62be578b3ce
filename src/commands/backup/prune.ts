import {Flags} from '@oclif/core'
import {gatherRestorePoints} from '../../backups/gather.js'
import {resticSecretsStdin} from '../../backups/restic.js'
import {restorePointTable} from '../../backups/render.js'
import {planRetention, removeRestorePointCommand, type RetentionPlan} from '../../backups/retention.js'
import type {RestorePoint} from '../../backups/restore-points.js'
import {selectBackupLocations} from '../../backups/select.js'
import type {InventoryNode} from '../../inventory/schema/index.js'
import {archiveFilesToPrune, archiveListingCommand, binlogArchiveDir, parseBinlogArchiveRun, removeArchivedBinlogsCommand} from '../../galera/binlog-archive.js'
import {galeraBackupNode} from '../../galera/cluster.js'
import {parsePitrBackups} from '../../galera/pitr.js'
import type {LoadedInventory} from '../../inventory/load.js'
import type {RemoteRunner} from '../../ssh/pool.js'
import {changeFlags, CtlCommand, envArg} from '../../lib/command.js'
import {CtlError, ExitCode, toCtlError} from '../../lib/errors.js'
import {requireConfirmation} from '../../lib/prompt.js'

interface SeriesResult {
  series: string
  keep: number
  kept: string[]
  remove: string[]
  leftAlone: string[]
}

/** The binary-log archive's files no kept backup needs (see galera/binlog-archive.ts). */
interface ArchivePrune {
  node: string
  dir: string
  remove: string[]
  /** The oldest binlog file a kept backup starts from: it and every later file stay. */
  keepFrom?: string
}

export interface BackupPruneResult {
  env: string
  series: SeriesResult[]
  archive?: ArchivePrune
  /** Paths removed by this run, as `node:path`. */
  removed: string[]
  dryRun: boolean
}

export default class BackupPrune extends CtlCommand {
  static override summary = "Apply the inventory's retention (backups.keep): remove the oldest backups beyond it."
  static override description = `Lists every restore point (as ctl backup list does), keeps the newest backups.keep.<database> complete ones of each series (MariaDB, its offsite restic copies as a series of their own, forgotten and pruned in the repository; each PostgreSQL database on its own; Redis; RabbitMQ) and removes the older ones, oldest first, after showing the plan and asking.
Never removes the newest complete backup (keep is at least 1), a backup ctl did not finish (no manifest or record) or one that does not match its record: those are shown and left for a person. Refuses when a node holding backups cannot be listed.`
  static override examples = ['<%= config.bin %> backup prune lab --dry-run', '<%= config.bin %> backup prune prod --database postgres --yes --json']
  static override args = {env: envArg}
  static override flags = {
    ...changeFlags,
    database: Flags.string({description: 'Only this database', options: ['mariadb', 'postgres', 'redis', 'rabbitmq']}),
  }

  async run(): Promise<BackupPruneResult> {
    const {args, flags} = await this.parse(BackupPrune)
    const loaded = this.loadEnv(args.env)
    // pgBackRest expires its own backups (databases.patroni.pgbackrest.retentionFull) and the WAL they need.
    const locations = selectBackupLocations(loaded.inventory, flags.database).filter((l) => l.database !== 'pgbackrest')
    this.auditContext = {...this.auditContext, hosts: [...new Set(locations.flatMap((l) => l.nodes))]}
    const pool = this.sshPool(loaded)
    const gathered = await gatherRestorePoints(pool, loaded, locations)
    const [unlisted] = gathered.unlisted
    if (unlisted)
      throw new CtlError(
        `Cannot list the backups on ${gathered.unlisted.map((p) => p.node).join(', ')}: not pruning what cannot be counted (${unlisted.error})`,
        {
          exitCode: ExitCode.cannotRun,
          host: unlisted.node,
          code: 'backup.unlisted',
          hint: unlisted.hint ?? `Check the host with: ctl exec ${loaded.env} --node ${unlisted.node} -- true`,
        },
      )
    const plans = planRetention(gathered.points, (p) => loaded.inventory.backups.keep[p.database as Exclude<RestorePoint['database'], 'pgbackrest'>])
    const pending = plans.flatMap((p) => p.remove)
    const archive = locations.some((l) => l.database === 'mariadb') ? await planArchivePrune(pool, loaded, plans) : undefined
    const archiveCount = archive?.remove.length ?? 0
    const result = (removed: string[], dryRun = false): BackupPruneResult => ({
      env: loaded.env,
      series: plans.map(summarize),
      ...(archive ? {archive} : {}),
      removed,
      dryRun,
    })

    if (!this.jsonEnabled()) {
      this.render(plans)
      if (archive)
        this.log(
          archive.keepFrom
            ? `binary-log archive ${archive.node}:${archive.dir}: keeps ${archive.keepFrom} and later (the oldest kept backup starts there)${archiveCount > 0 ? `, REMOVE ${archive.remove.join(', ')}` : ''}`
            : `binary-log archive ${archive.node}:${archive.dir}: no kept backup has a binlog position, nothing removed`,
        )
    }
    if (pending.length === 0 && archiveCount === 0) {
      this.say('Nothing to remove: every series holds no more backups than it keeps.')
      this.auditContext.outcome = 'no-changes'
      return result([])
    }
    if (flags['dry-run']) {
      this.say(`Dry run: ${pending.length} backup(s) and ${archiveCount} archived binary log(s) would be removed; nothing was changed.`)
      this.auditContext.outcome = 'dry-run'
      return result([], true)
    }
    await requireConfirmation({
      message: `Remove ${pending.length} backup(s) of ${loaded.env} (${plans
        .filter((p) => p.remove.length > 0)
        .map((p) => p.series)
        .join(', ')})${archiveCount > 0 ? ` and ${archiveCount} archived binary log(s)` : ''}? They cannot be recovered.`,
      yes: flags.yes,
    })
    const removed: string[] = []
    for (const point of pending) {
      const node = loaded.inventory.nodes.find((n) => n.name === point.nodes[0]) as InventoryNode
      try {
        await pool.run(node, removeRestorePointCommand(point), {
          check: true,
          step: `remove ${point.path}`,
          timeoutMs: 3600_000,
          ...(point.restic ? {stdin: resticSecretsStdin(loaded)} : {}),
        })
      } catch (error) {
        const failure = toCtlError(error, {host: node.name})
        this.auditContext.detail = {removed}
        throw new CtlError(`Removing ${point.path} failed after ${removed.length} of ${pending.length} removals: ${failure.message}`, {
          host: node.name,
          step: `remove ${point.path}`,
          code: 'backup.prune-failed',
          hint: `${removed.length > 0 ? `Removed: ${removed.join(', ')}. ` : ''}The others are untouched; ctl backup prune ${loaded.env} again once the host is fixed.`,
        })
      }
      removed.push(`${node.name}:${point.path}`)
    }
    // The archive last: the backups it was kept for are gone first, never the other way round.
    if (archive && archiveCount > 0) {
      const node = loaded.inventory.nodes.find((n) => n.name === archive.node) as InventoryNode
      await pool.run(node, removeArchivedBinlogsCommand(archive.dir, archive.remove), {check: true, step: `remove archived binary logs in ${archive.dir}`})
      removed.push(...archive.remove.map((f) => `${node.name}:${archive.dir}/${f}`))
    }
    this.auditContext.detail = {removed}
    this.say(`Removed ${removed.length - archiveCount} backup(s)${archiveCount > 0 ? ` and ${archiveCount} archived binary log(s)` : ''}.`)
    return result(removed)
  }

  private render(plans: RetentionPlan[]): void {
    const action = new Map<string, string>()
    for (const plan of plans) {
      for (const p of plan.kept) action.set(p.path, 'keep')
      for (const p of plan.remove) action.set(p.path, 'REMOVE')
      for (const p of plan.leftAlone) action.set(p.path, 'leave')
    }
    for (const plan of plans) this.log(`${plan.series}: keeps ${plan.keep}, has ${plan.kept.length + plan.remove.length} complete`)
    const points = plans.flatMap((p) => [...p.kept, ...[...p.remove].reverse(), ...p.leftAlone])
    if (points.length > 0) for (const line of restorePointTable(points, (p) => action.get(p.path) ?? '')) this.log(line)
  }

  private say(text: string): void {
    if (!this.jsonEnabled()) this.log(text)
  }
}

/**
 * The archive's files that no backup kept by this run needs: the kept local backups' binlog files
 * (read on the backup node) and the kept offsite copies' (their restic tags). Only with one backup node.
 */
async function planArchivePrune(remote: RemoteRunner, loaded: LoadedInventory, plans: RetentionPlan[]): Promise<ArchivePrune | undefined> {
  const galera = loaded.inventory.databases.galera
  if (!galera) return undefined
  const name = galeraBackupNode(galera)
  if (!galera.backupNode && !galera.backupReplica && galera.members.length > 1) return undefined
  const dir = binlogArchiveDir(galera, name)
  const node = loaded.inventory.nodes.find((n) => n.name === name) as InventoryNode
  const listed = await remote.run(node, archiveListingCommand(dir, galera.backupDir), {check: true, step: 'list the binary-log archive'})
  const archived = parseBinlogArchiveRun(listed.stdout).files.map((f) => f.name)
  if (archived.length === 0) return undefined
  const keptLocal = new Set(plans.filter((p) => p.series === 'mariadb').flatMap((p) => p.kept.map((k) => k.path)))
  const neededFrom = [
    ...parsePitrBackups(listed.stdout)
      .filter((b) => keptLocal.has(b.dir))
      .map((b) => b.binlog.file),
    ...plans.filter((p) => p.series === 'mariadb@offsite').flatMap((p) => p.kept.flatMap((k) => (k.restic?.binlogFile ? [k.restic.binlogFile] : []))),
  ]
  return {node: name, dir, ...archiveFilesToPrune(archived, neededFrom)}
}

function summarize(plan: RetentionPlan): SeriesResult {
  return {
    series: plan.series,
    keep: plan.keep,
    kept: plan.kept.map((p) => p.path),
    remove: plan.remove.map((p) => p.path),
    leftAlone: plan.leftAlone.map((p) => p.path),
  }
}
