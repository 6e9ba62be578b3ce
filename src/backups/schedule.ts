import {galeraBackupNode} from '../galera/cluster.js'
import {createHash} from 'node:crypto'
import {posix} from 'node:path'
import type {Inventory} from '../inventory/schema/index.js'
import {nodePath} from '../inventory/schema/common.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {quote, type RemoteCommand} from '../lib/shell.js'
import {OFFSITE_REPO} from '../patroni/pgbackrest-config.js'
import {mariadbResticRepo} from './restic.js'
import {scheduledBinlogScript, scheduledMariadbPaths, scheduledMariadbScript} from './scheduled-mariadb.js'
import {scheduledStoredPaths, scheduledStoredScript, type StoredJob} from './scheduled-stored.js'
import {redisBackupScript} from './redis-rdb.js'
import {rabbitmqBackupScript} from './rabbitmq-definitions.js'
import {rabbitmqctlArgs} from '../rabbitmq/facts.js'

/**
 * `ctl backup schedule`: the inventory's backups.schedule as one cron file per backup node
 * (`<cronDir>/ctl-backups-<env>`), what to do with the file there now, and the commands that read,
 * write and remove it. Pure.
 */

/** A file the cron jobs need beside the cron file (the scheduled MariaDB backup's script and its secrets). */
export interface ScheduleSupportFile {
  path: string
  text: string
  mode: '700' | '600'
  /** Never read back or shown: compared by its sha256 only. */
  secret: boolean
}

export interface CronFilePlan {
  node: string
  path: string
  /** The file's content; undefined when the node has no job any more (the file goes). */
  text?: string
  jobs: string[]
  /** Written before the cron file, removed with it. */
  support?: ScheduleSupportFile[]
  /** Support files of jobs no longer scheduled here: removed. */
  stale?: string[]
}

export type CronFileAction = 'install' | 'replace' | 'unchanged' | 'remove' | 'absent'

/** cron.d names: letters, digits, "_" and "-" only (run-parts rules: a dotted name is ignored by cron). */
function cronFileName(env: string): string {
  return `ctl-backups-${env.replace(/[^A-Za-z0-9_-]/g, '_')}`
}

/** In a cron line, "%" ends the command (the rest becomes stdin): written as "\%". */
const cronSafe = (text: string) => text.replaceAll('%', '\\%')

type Job = Inventory['backups']['schedule'][number]

/** The SQL password and offsite keys the scheduled MariaDB job reads (resolved by the command; a marker in tests and plans). */
export interface ScheduleSecrets {
  mariadb?: string
  /** The Redis password, for the redis job's secrets file. */
  redis?: string
}

/** The node each Redis/RabbitMQ backup job runs on: the component's backup node, when it takes backups. */
function storedJobNodes(inventory: Inventory): Record<StoredJob, string | undefined> {
  const {redis, rabbitmq} = inventory.databases
  return {
    redis: redis?.backupDir ? (redis.backupNode ?? redis.members[0]!.node) : undefined,
    'rabbitmq-definitions': rabbitmq?.backupDir ? (rabbitmq.backupNode ?? rabbitmq.members[0]!.node) : undefined,
  }
}

/** The Redis and RabbitMQ jobs' scripts (and the Redis password's file) on this node, and those of jobs no longer here. */
function storedJobSupport(
  inventory: Inventory,
  env: string,
  node: string,
  cronDir: string,
  here: readonly Job[],
  secrets: ScheduleSecrets,
): {support: ScheduleSupportFile[]; stale: string[]} {
  const support: ScheduleSupportFile[] = []
  const stale: string[] = []
  const {redis, rabbitmq} = inventory.databases
  for (const job of ['redis', 'rabbitmq-definitions'] as const) {
    const files = scheduledStoredPaths(cronDir, env, job)
    const withPassword = job === 'redis' && redis?.password !== undefined
    if (!here.some((j) => j.job === job)) {
      if (storedJobNodes(inventory)[job] === node) stale.push(files.script, ...(job === 'redis' ? [files.secrets] : []))
      continue
    }
    const script =
      job === 'redis'
        ? redisBackupScript(
            redis!.backupDir!,
            redis!.members.map((m) => ({address: inventory.nodes.find((n) => n.name === m.node)!.address, port: m.port})),
            withPassword,
          )
        : rabbitmqBackupScript(
            rabbitmq!.backupDir!,
            rabbitmq!.serverBinDir,
            rabbitmq!.members.map((m) => ({member: m.nodeName, argv: rabbitmqctlArgs(rabbitmq!, m.nodeName, [])})),
          )
    const dir = job === 'redis' ? redis!.backupDir! : rabbitmq!.backupDir!
    support.push({
      path: files.script,
      text: scheduledStoredScript(job, node, dir, script, withPassword ? files.secrets : undefined),
      mode: '700',
      secret: false,
    })
    if (withPassword) support.push({path: files.secrets, text: secrets.redis ?? '<the Redis password>\n', mode: '600', secret: true})
    else if (job === 'redis') stale.push(files.secrets)
  }
  return {support, stale}
}

/** The cron line of a Redis or RabbitMQ backup job: its script, output into the log beside its backups. */
function storedJobLine(inventory: Inventory, env: string, cronDir: string, job: Job): string {
  const kind = job.job as StoredJob
  const dir = kind === 'redis' ? inventory.databases.redis!.backupDir! : inventory.databases.rabbitmq!.backupDir!
  return `${job.cron} root ${cronSafe(`mkdir -p ${quote(dir)} && ${quote(scheduledStoredPaths(cronDir, env, kind).script)} >> ${quote(`${dir}/ctl-schedule.log`)} 2>&1`)}`
}

function pgbackrestLine(inventory: Inventory, job: Job): string {
  const patroni = inventory.databases.patroni!
  const repo = patroni.pgbackrest!
  const onNode = (template: string) => nodePath(template, repo.repoNode)
  const argv = [
    'pgbackrest',
    `--config=${onNode(repo.configPath)}`,
    `--stanza=${repo.stanza ?? patroni.scope}`,
    ...(job.repo === 'offsite' ? [`--repo=${OFFSITE_REPO}`] : []),
    `--type=${job.type}`,
    patroni.backupFromReplica ? '--backup-standby' : '--no-backup-standby',
    'backup',
  ]
  return `${job.cron} ${repo.osUser} ${cronSafe(`${argv.map(quote).join(' ')} >> ${quote(`${onNode(repo.logPath)}/ctl-schedule.log`)} 2>&1`)}`
}

/**
 * The cron files the schedule needs, one per node: pgBackRest's jobs on its repository node (as its
 * user), MariaDB's on the Galera backup node (as root, through the script beside the cron file). A
 * node whose jobs are gone keeps a plan to remove its files.
 */
export function planCronFiles(inventory: Inventory, env: string, secrets: ScheduleSecrets = {}): CronFilePlan[] {
  const patroni = inventory.databases.patroni
  const galera = inventory.databases.galera
  const jobs = inventory.backups.schedule
  const need = (job: Job['job'], present: unknown, what: string) => {
    if (jobs.some((j) => j.job === job) && !present)
      throw new CtlError(`backups.schedule has ${job} jobs but the inventory has no ${what}`, {
        exitCode: ExitCode.cannotRun,
        code: 'schedule.no-repository',
        hint: 'Describe it (docs/BACKUPS.md) or remove the jobs.',
      })
  }
  need('pgbackrest', patroni?.pgbackrest, 'databases.patroni.pgbackrest')
  need('mariadb', galera, 'databases.galera')
  need('mariadb-binlogs', galera, 'databases.galera')
  if (jobs.some((j) => j.job === 'pgbackrest' && j.repo === 'offsite') && !inventory.backups.offsite)
    throw new CtlError('backups.schedule has a pgbackrest job with repo: offsite but the inventory has no backups.offsite', {
      exitCode: ExitCode.cannotRun,
      code: 'schedule.no-offsite',
      hint: 'Describe the S3 storage under backups.offsite (docs/BACKUPS.md) or schedule into the local repository.',
    })
  const {redis, rabbitmq} = inventory.databases
  need('redis', redis?.backupDir, 'databases.redis.backupDir')
  need('rabbitmq-definitions', rabbitmq?.backupDir, 'databases.rabbitmq.backupDir')
  const repoNode = patroni?.pgbackrest?.repoNode
  const mariadbNode = galera ? galeraBackupNode(galera) : undefined
  const stored = storedJobNodes(inventory)
  const jobNode = (job: Job['job']) =>
    job === 'pgbackrest' ? repoNode : job === 'redis' ? stored.redis : job === 'rabbitmq-definitions' ? stored['rabbitmq-definitions'] : mariadbNode
  const nodes = [...new Set([repoNode, mariadbNode, stored.redis, stored['rabbitmq-definitions']].filter((n): n is string => n !== undefined))]
  return nodes.map((node) => {
    const cronDir = nodePath(inventory.backups.cronDir, node)
    const path = `${cronDir}/${cronFileName(env)}`
    const here = jobs.filter((j) => jobNode(j.job) === node)
    const files = galera && node === mariadbNode ? scheduledMariadbPaths(cronDir, env, galera.backupDir) : undefined
    const backupJob = here.some((j) => j.job === 'mariadb')
    const binlogJob = here.some((j) => j.job === 'mariadb-binlogs')
    const storedSupport = storedJobSupport(inventory, env, node, cronDir, here, secrets)
    const staleFiles = [
      ...(files ? [...(backupJob ? [] : [files.script]), ...(binlogJob ? [] : [files.binlogScript]), ...(backupJob || binlogJob ? [] : [files.secrets])] : []),
      ...storedSupport.stale,
    ]
    const stale = staleFiles.length > 0 ? {stale: staleFiles} : {}
    if (here.length === 0) return {node, path, jobs: [], ...stale}
    const support: ScheduleSupportFile[] = [...storedSupport.support]
    if (files && backupJob)
      support.push({path: files.script, text: scheduledMariadbScript(galera!, node, files, mariadbResticRepo(inventory)), mode: '700', secret: false})
    if (files && binlogJob)
      support.push({
        path: files.binlogScript,
        text: scheduledBinlogScript(galera!, node, files.secrets, mariadbResticRepo(inventory)),
        mode: '700',
        secret: false,
      })
    if (files && (backupJob || binlogJob))
      support.push({path: files.secrets, text: secrets.mariadb ?? '<SQL password, S3 keys, offsite key>\n', mode: '600', secret: true})
    const lines = here.map((job) => {
      if (job.job === 'pgbackrest') return pgbackrestLine(inventory, job)
      if (job.job === 'redis' || job.job === 'rabbitmq-definitions') return storedJobLine(inventory, env, cronDir, job)
      const script = job.job === 'mariadb' ? files!.script : files!.binlogScript
      return `${job.cron} root ${cronSafe(`${quote(script)} >> ${quote(files!.log)} 2>&1`)}`
    })
    const text = [
      `# Written by \`ctl backup schedule ${env}\` from the inventory's backups.schedule: edit the inventory and run it again.`,
      'SHELL=/bin/sh',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ...lines,
      '',
    ].join('\n')
    const describe = (j: Job) =>
      j.job === 'pgbackrest'
        ? `${j.cron}: pgbackrest ${j.type} backup${j.repo === 'offsite' ? ' (offsite)' : ''}`
        : `${j.cron}: ${{mariadb: 'mariabackup backup', 'mariadb-binlogs': 'binary-log archive', redis: 'Redis RDB snapshot', 'rabbitmq-definitions': 'RabbitMQ definitions'}[j.job]}`
    return {node, path, text, jobs: here.map(describe), ...(support.length > 0 ? {support} : {}), ...stale}
  })
}

/** Prints `present` then the file, or `absent`. */
export function readCronFileCommand(path: string): RemoteCommand {
  return {script: `if [ -f ${quote(path)} ]; then echo present; cat ${quote(path)}; else echo absent; fi`}
}

export function parseCronFile(stdout: string): string | undefined {
  const [first, ...rest] = stdout.split('\n')
  return first === 'present' ? rest.join('\n') : undefined
}

/** `sha256<TAB>path` or `-<TAB>path` for each file: support files are compared by hash, never read back. */
export function supportHashesCommand(paths: readonly string[]): RemoteCommand {
  return {
    script:
      paths
        .map(
          (p) =>
            `if [ -f ${quote(p)} ]; then printf '%s\\t%s\\n' "$(sha256sum < ${quote(p)} | cut -c1-64)" ${quote(p)}; else printf -- '-\\t%s\\n' ${quote(p)}; fi`,
        )
        .join('; ') || 'true',
  }
}

export function parseSupportHashes(stdout: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>()
  for (const line of stdout.split('\n')) {
    const tab = line.indexOf('\t')
    if (tab > 0) out.set(line.slice(tab + 1), line.slice(0, tab) === '-' ? undefined : line.slice(0, tab))
  }
  return out
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** What to do on the node: the cron file compared by content, its support files by hash; stale ones count as a change. */
export function cronFileAction(plan: CronFilePlan, current: string | undefined, supportHashes: Map<string, string | undefined> = new Map()): CronFileAction {
  const staleThere = (plan.stale ?? []).some((p) => supportHashes.get(p) !== undefined)
  if (plan.text === undefined) return current === undefined && !staleThere ? 'absent' : 'remove'
  if (current === undefined) return 'install'
  const supportDiffers = (plan.support ?? []).some((f) => supportHashes.get(f.path) !== sha256(f.text))
  // Compared without trailing newlines: what comes back over SSH may have lost the last one.
  return current.trimEnd() === plan.text.trimEnd() && !supportDiffers && !staleThere ? 'unchanged' : 'replace'
}

/** Writes one support file from stdin (root's, its mode), its directory 0700, replaced in one rename. */
export function writeSupportFileCommand(file: ScheduleSupportFile): RemoteCommand {
  const next = quote(`${file.path}.ctl-new`)
  return {
    script: `install -d -m 700 ${quote(posix.dirname(file.path))} && umask 077 && cat > ${next} && chmod ${file.mode} ${next} && mv ${next} ${quote(file.path)}`,
  }
}

/** Writes the cron file from stdin (root's, 0644 as cron wants), replaced in one rename; or removes it. Stale support files go too. */
export function applyCronFileCommand(plan: CronFilePlan): RemoteCommand {
  const path = quote(plan.path)
  const next = quote(`${plan.path}.ctl-new`)
  const stale = (plan.stale ?? []).length > 0 ? ` && rm -f ${(plan.stale ?? []).map(quote).join(' ')}` : ''
  if (plan.text === undefined) return {script: `rm -f ${path}${stale}`}
  return {script: `umask 022 && cat > ${next} && chmod 644 ${next} && mv ${next} ${path}${stale}`}
}

/** Whether cron runs on the node (exit 0), so the schedule will fire. */
export const CRON_RUNNING_COMMAND: RemoteCommand = ['pgrep', '-x', 'cron']
