import {resticSecretsStdin} from '../../backups/restic.js'
import {scheduledMariadbSecrets} from '../../backups/scheduled-mariadb.js'
import {
  applyCronFileCommand,
  cronFileAction,
  CRON_RUNNING_COMMAND,
  parseCronFile,
  parseSupportHashes,
  planCronFiles,
  readCronFileCommand,
  supportHashesCommand,
  writeSupportFileCommand,
  type CronFileAction,
  type ScheduleSecrets,
} from '../../backups/schedule.js'
import type {LoadedInventory} from '../../inventory/load.js'
import {resolveSecret} from '../../inventory/secrets.js'
import type {InventoryNode} from '../../inventory/schema/index.js'
import {changeFlags, CtlCommand, envArg} from '../../lib/command.js'
import {CtlError, toCtlError} from '../../lib/errors.js'
import {requireConfirmation} from '../../lib/prompt.js'
import {renderCommand} from '../../lib/shell.js'
import {table} from '../../runbooks/render.js'

interface ScheduledFile {
  node: string
  path: string
  action: CronFileAction
  jobs: string[]
  /** cron is not running there: the schedule would never fire. */
  cronStopped?: boolean
}

export interface BackupScheduleResult {
  env: string
  files: ScheduledFile[]
  dryRun: boolean
  changed: string[]
}

export default class BackupSchedule extends CtlCommand {
  static override summary = "Install the inventory's backup schedule (backups.schedule) as a cron file on the backup node."
  static override description = `Renders backups.schedule into <backups.cronDir>/ctl-backups-<env> on each backup node (pgBackRest backups on databases.patroni.pgbackrest.repoNode, run as its osUser, into the local or the offsite repository; mariabackup backups on the Galera backup node, through a script and a 0600 secrets file written beside the cron directory, shipped offsite when backups.offsite is set; Redis RDB snapshots and RabbitMQ definitions on their backup nodes, through scripts beside it, the Redis password in a 0600 file), compares it with the file there, shows the plan (install, replace, unchanged, remove) and asks before writing. Idempotent: a second run changes nothing. An empty schedule removes the file. Warns when cron does not run on the node (the schedule would never fire).`
  static override examples = ['<%= config.bin %> backup schedule prod --dry-run', '<%= config.bin %> backup schedule lab --yes --json']
  static override args = {env: envArg}
  static override flags = changeFlags

  async run(): Promise<BackupScheduleResult> {
    const {args, flags} = await this.parse(BackupSchedule)
    const loaded = this.loadEnv(args.env)
    const plans = planCronFiles(loaded.inventory, loaded.env, scheduleSecrets(loaded))
    this.auditContext = {...this.auditContext, hosts: plans.map((p) => p.node)}
    const pool = this.sshPool(loaded)
    const node = (name: string) => loaded.inventory.nodes.find((n) => n.name === name) as InventoryNode
    const files: ScheduledFile[] = []
    for (const plan of plans) {
      const current = parseCronFile((await pool.run(node(plan.node), readCronFileCommand(plan.path), {check: true, step: 'read the schedule'})).stdout)
      const cron = await pool.run(node(plan.node), CRON_RUNNING_COMMAND, {step: 'is cron running'})
      const supportPaths = [...(plan.support ?? []).map((f) => f.path), ...(plan.stale ?? [])]
      const hashes = parseSupportHashes((await pool.run(node(plan.node), supportHashesCommand(supportPaths), {check: true, step: 'read the job files'})).stdout)
      files.push({
        node: plan.node,
        path: plan.path,
        action: cronFileAction(plan, current, hashes),
        jobs: plan.jobs,
        ...(cron.code !== 0 && plan.text ? {cronStopped: true} : {}),
      })
    }
    const pending = plans.filter((_, i) => ['install', 'replace', 'remove'].includes(files[i]!.action))
    const result = (changed: string[], dryRun = false): BackupScheduleResult => ({env: loaded.env, files, dryRun, changed})
    if (!this.jsonEnabled()) {
      if (files.length === 0) this.log('No backup node to schedule on (no databases.patroni.pgbackrest).')
      else
        for (const line of table(
          ['node', 'file', 'action', 'jobs'],
          files.map((f) => [f.node, f.path, f.action, f.jobs.join('; ') || '-']),
        ))
          this.log(line)
      for (const f of files.filter((x) => x.cronStopped))
        this.warn(`cron is not running on ${f.node}: the schedule will not fire until it does (e.g. systemctl enable --now cron).`)
      for (const p of pending) {
        if (p.text) this.log(`\n${p.node}:${p.path}:\n${p.text}`)
        for (const f of p.text ? (p.support ?? []) : [])
          this.log(
            f.secret
              ? `${p.node}:${f.path} (mode ${f.mode}): the job's secrets, from the inventory's secret references`
              : `\n${p.node}:${f.path} (mode ${f.mode}):\n${f.text}`,
          )
      }
    }
    if (pending.length === 0) {
      this.say('No changes: the schedule on every node is as the inventory says.')
      this.auditContext.outcome = 'no-changes'
      return result([])
    }
    if (flags['dry-run']) {
      this.say(`Dry run: ${pending.length} file(s) would change; nothing was changed.`)
      this.auditContext.outcome = 'dry-run'
      return result([], true)
    }
    await requireConfirmation({message: `Change the backup schedule of ${loaded.env} on ${pending.map((p) => p.node).join(', ')}?`, yes: flags.yes})
    const changed: string[] = []
    for (const plan of pending) {
      try {
        // The job's script and secrets first: the cron line that runs them comes last.
        for (const file of plan.text === undefined ? [] : (plan.support ?? []))
          await pool.run(node(plan.node), writeSupportFileCommand(file), {stdin: file.text, check: true, step: `write ${file.path}`})
        await pool.run(node(plan.node), applyCronFileCommand(plan), {stdin: plan.text, check: true, step: `write ${plan.path}`})
      } catch (error) {
        throw new CtlError(`Writing ${plan.path} failed: ${toCtlError(error).message}`, {
          host: plan.node,
          code: 'schedule.write-failed',
          hint: `${changed.length > 0 ? `Changed: ${changed.join(', ')}. ` : ''}Check the directory (${renderCommand(readCronFileCommand(plan.path))}), then run again.`,
        })
      }
      changed.push(`${plan.node}:${plan.path}`)
    }
    this.auditContext.detail = {changed}
    this.say(`Schedule updated: ${changed.join(', ')}.`)
    return result(changed)
  }

  private say(text: string): void {
    if (!this.jsonEnabled()) this.log(text)
  }
}

/** The scheduled jobs' secrets: MariaDB's (SQL password, offsite keys) and the Redis password, for the jobs the schedule has. */
function scheduleSecrets(loaded: LoadedInventory): ScheduleSecrets {
  const {galera, redis} = loaded.inventory.databases
  const has = (...jobs: string[]) => loaded.inventory.backups.schedule.some((j) => jobs.includes(j.job))
  return {
    ...(galera && has('mariadb', 'mariadb-binlogs')
      ? {
          mariadb: scheduledMariadbSecrets({
            ...(galera.password ? {sqlPassword: resolveSecret(loaded, galera.password)} : {}),
            ...(loaded.inventory.backups.offsite ? {offsite: resticSecretsStdin(loaded)} : {}),
          }),
        }
      : {}),
    ...(redis?.password && has('redis') ? {redis: `${resolveSecret(loaded, redis.password)}\n`} : {}),
  }
}
