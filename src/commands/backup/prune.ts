import {Flags} from '@oclif/core'
import {gatherRestorePoints} from '../../backups/gather.js'
import {resticSecretsStdin} from '../../backups/restic.js'
import {restorePointTable} from '../../backups/render.js'
import {planRetention, removeRestorePointCommand, type RetentionPlan} from '../../backups/retention.js'
import {selectBackupLocations} from '../../backups/select.js'
import type {InventoryNode} from '../../inventory/schema/index.js'
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

export interface BackupPruneResult {
  env: string
  series: SeriesResult[]
  /** Paths removed by this run, as `node:path`. */
  removed: string[]
  dryRun: boolean
}

export default class BackupPrune extends CtlCommand {
  static override summary = "Apply the inventory's retention (backups.keep): remove the oldest backups beyond it."
  static override description = `Lists every restore point (as ctl backup list does), keeps the newest backups.keep.<database> complete ones of each series (MariaDB, its offsite restic copies as a series of their own, forgotten and pruned in the repository; each PostgreSQL database on its own) and removes the older ones, oldest first, after showing the plan and asking.
Never removes the newest complete backup (keep is at least 1), a backup ctl did not finish (no manifest or record) or one that does not match its record: those are shown and left for a person. Refuses when a node holding backups cannot be listed.`
  static override examples = ['<%= config.bin %> backup prune lab --dry-run', '<%= config.bin %> backup prune prod --database postgres --yes --json']
  static override args = {env: envArg}
  static override flags = {
    ...changeFlags,
    database: Flags.string({description: 'Only this database', options: ['mariadb', 'postgres']}),
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
    const plans = planRetention(gathered.points, (p) => loaded.inventory.backups.keep[p.database as 'mariadb' | 'postgres'])
    const pending = plans.flatMap((p) => p.remove)
    const result = (removed: string[], dryRun = false): BackupPruneResult => ({env: loaded.env, series: plans.map(summarize), removed, dryRun})

    if (!this.jsonEnabled()) this.render(plans)
    if (pending.length === 0) {
      this.say('Nothing to remove: every series holds no more backups than it keeps.')
      this.auditContext.outcome = 'no-changes'
      return result([])
    }
    if (flags['dry-run']) {
      this.say(`Dry run: ${pending.length} backup(s) would be removed; nothing was changed.`)
      this.auditContext.outcome = 'dry-run'
      return result([], true)
    }
    await requireConfirmation({
      message: `Remove ${pending.length} backup(s) of ${loaded.env} (${plans
        .filter((p) => p.remove.length > 0)
        .map((p) => p.series)
        .join(', ')})? They cannot be recovered.`,
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
    this.auditContext.detail = {removed}
    this.say(`Removed ${removed.length} backup(s).`)
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

function summarize(plan: RetentionPlan): SeriesResult {
  return {
    series: plan.series,
    keep: plan.keep,
    kept: plan.kept.map((p) => p.path),
    remove: plan.remove.map((p) => p.path),
    leftAlone: plan.leftAlone.map((p) => p.path),
  }
}
