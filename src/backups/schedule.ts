import type {Inventory} from '../inventory/schema/index.js'
import {nodePath} from '../inventory/schema/common.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {quote, type RemoteCommand} from '../lib/shell.js'

/**
 * `ctl backup schedule`: the inventory's backups.schedule as one cron file per backup node
 * (`<cronDir>/ctl-backups-<env>`), what to do with the file there now, and the commands that read,
 * write and remove it. Pure.
 */

export interface CronFilePlan {
  node: string
  path: string
  /** The file's content; undefined when the node has no job any more (the file goes). */
  text?: string
  jobs: string[]
}

export type CronFileAction = 'install' | 'replace' | 'unchanged' | 'remove' | 'absent'

/** cron.d names: letters, digits, "_" and "-" only (run-parts rules: a dotted name is ignored by cron). */
function cronFileName(env: string): string {
  return `ctl-backups-${env.replace(/[^A-Za-z0-9_-]/g, '_')}`
}

/** In a cron line, "%" ends the command (the rest becomes stdin): written as "\%". */
const cronSafe = (text: string) => text.replaceAll('%', '\\%')

/** The cron files the schedule needs: today pgBackRest's jobs, on its repository node; a node whose jobs are gone keeps a plan to remove its file. */
export function planCronFiles(inventory: Inventory, env: string): CronFilePlan[] {
  const patroni = inventory.databases.patroni
  const repo = patroni?.pgbackrest
  const jobs = inventory.backups.schedule
  if (jobs.length > 0 && !repo)
    throw new CtlError('backups.schedule has pgbackrest jobs but the inventory has no databases.patroni.pgbackrest', {
      exitCode: ExitCode.cannotRun,
      code: 'schedule.no-repository',
      hint: 'Describe the repository (docs/BACKUPS.md) or remove the jobs.',
    })
  if (!patroni || !repo) return []
  const node = repo.repoNode
  const onNode = (template: string) => nodePath(template, node)
  const path = `${onNode(inventory.backups.cronDir)}/${cronFileName(env)}`
  if (jobs.length === 0) return [{node, path, jobs: []}]
  const stanza = repo.stanza ?? patroni.scope
  const log = `${onNode(repo.logPath)}/ctl-schedule.log`
  const lines = jobs.map((job) => {
    const argv = [
      'pgbackrest',
      `--config=${onNode(repo.configPath)}`,
      `--stanza=${stanza}`,
      `--type=${job.type}`,
      patroni.backupFromReplica ? '--backup-standby' : '--no-backup-standby',
      'backup',
    ]
    return `${job.cron} ${repo.osUser} ${cronSafe(`${argv.map(quote).join(' ')} >> ${quote(log)} 2>&1`)}`
  })
  const text = [
    `# Written by \`ctl backup schedule ${env}\` from the inventory's backups.schedule: edit the inventory and run it again.`,
    'SHELL=/bin/sh',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ...lines,
    '',
  ].join('\n')
  return [{node, path, text, jobs: jobs.map((j) => `${j.cron}: pgbackrest ${j.type} backup`)}]
}

/** Prints `present` then the file, or `absent`. */
export function readCronFileCommand(path: string): RemoteCommand {
  return {script: `if [ -f ${quote(path)} ]; then echo present; cat ${quote(path)}; else echo absent; fi`}
}

export function parseCronFile(stdout: string): string | undefined {
  const [first, ...rest] = stdout.split('\n')
  return first === 'present' ? rest.join('\n') : undefined
}

export function cronFileAction(plan: CronFilePlan, current: string | undefined): CronFileAction {
  if (plan.text === undefined) return current === undefined ? 'absent' : 'remove'
  if (current === undefined) return 'install'
  // Compared without trailing newlines: what comes back over SSH may have lost the last one.
  return current.trimEnd() === plan.text.trimEnd() ? 'unchanged' : 'replace'
}

/** Writes the file from stdin (root's, 0644 as cron wants), replaced in one rename; or removes it. */
export function applyCronFileCommand(plan: CronFilePlan): RemoteCommand {
  const path = quote(plan.path)
  const next = quote(`${plan.path}.ctl-new`)
  if (plan.text === undefined) return {script: `rm -f ${path}`}
  return {script: `umask 022 && cat > ${next} && chmod 644 ${next} && mv ${next} ${path}`}
}

/** Whether cron runs on the node (exit 0), so the schedule will fire. */
export const CRON_RUNNING_COMMAND: RemoteCommand = ['pgrep', '-x', 'cron']
