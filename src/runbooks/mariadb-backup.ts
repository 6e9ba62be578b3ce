import {CtlError, ExitCode} from '../lib/errors.js'
import {renderCommand} from '../lib/shell.js'
import {backupMember, GaleraAccess, GaleraCommands, galeraCluster, isBackupReplica} from '../galera/cluster.js'
import {judgeReplica, parseReplicaStatus} from '../galera/replica.js'
import {
  backupCommand,
  backupStamp,
  parseGaleraInfo,
  parseRecord,
  prepareCommand,
  parseSlaveInfoGtid,
  readGaleraInfoCommand,
  readSlaveInfoCommand,
  recordCommand,
  type BackupRecord,
} from '../galera/backup.js'
import {formatPosition, type Position} from '../galera/facts.js'
import {judgeDrill, MARIADB_ROWS_FILE, mariadbDrillCommand, parseDrillOutput, rowsFileText} from '../backups/drill.js'
import {writeRecordCommand} from '../patroni/dump.js'
import type {Runbook, StepContext} from './types.js'
import {lastLines} from '../lib/output.js'
import {posix} from 'node:path'
import {mariadbResticRepo, resticShipCommand} from '../backups/restic.js'
import {shipWithRestic} from './restic-ship.js'

export interface MariadbBackupOptions {
  /** The member to back up (default: the inventory's backup node, else the first member). */
  node?: string
}

export interface MariadbBackupState {
  node: string
  backupDir: string
  /** The backup directory on the node. */
  target: string
  position?: Position
  /** Taken from the backup replica (seed 000): its source's GTID position, instead of a Galera position. */
  replicaGtid?: string
  record?: BackupRecord
  /** Rows per table of the prepared backup, as a scratch server started on a copy of it counted them. */
  rowCounts?: Record<string, number>
  /** The restic snapshot of the backup in the offsite storage (backups.offsite), and where that is. */
  offsite?: {snapshot: string; where: string}
}

type Ctx = StepContext<MariadbBackupState>

const access = (ctx: Ctx) => new GaleraAccess(ctx.loaded, ctx)

/** mariabackup on the backup node: a member's Galera position, or the backup replica's source position. */
function nodeBackupCommand(a: GaleraCommands, state: MariadbBackupState) {
  return backupCommand(a.member(state.node), a.cluster.user, state.target, a.cluster.password !== undefined, isBackupReplica(a.cluster, state.node))
}

/** The backup replica must replicate, within its lag limit: a backup of a stale copy would silently miss writes. */
async function checkReplica(ctx: Ctx): Promise<void> {
  const cluster = galeraCluster(ctx.loaded)
  const replica = cluster.backupReplica!
  const r = await access(ctx).replicaStatus(ctx.state.node)
  if (r.code !== 0)
    throw new CtlError(`Cannot read the replication status of the backup replica on ${ctx.state.node}: ${lastLines(r, 2, ' ')}`, {
      host: ctx.state.node,
      exitCode: ExitCode.cannotRun,
      code: 'mariadb.replica-unreadable',
      hint: 'Is mariadbd running there? Or back up a Synced member with --node.',
    })
  const verdict = judgeReplica(ctx.loaded.env, ctx.state.node, parseReplicaStatus(r.stdout), replica.maxLagSeconds)
  ctx.report([`${ctx.state.node} (backup replica of ${replica.source}): ${verdict.detail}`])
  if (!verdict.ok)
    throw new CtlError(`The backup replica on ${ctx.state.node} is not fit to back up: ${verdict.detail}`, {
      host: ctx.state.node,
      exitCode: ExitCode.cannotRun,
      code: 'mariadb.replica-unfit',
      hint: `${verdict.hint ?? ''} Or back up a Synced member now: --node ${replica.source}.`.trim(),
    })
}

export const mariadbBackup: Runbook<MariadbBackupState, MariadbBackupOptions> = {
  name: 'mariadb-backup',
  summary: 'Take a consistent physical backup of a Galera member with mariabackup (--backup --galera-info, --prepare), recording its size and checksum.',
  description: [
    "Runs on one member (the inventory's backupNode by default, as seed 000 keeps a dedicated backup node; --node to choose),",
    'which must be Synced. The backup lands in databases.galera.backupDir/<time> on that node, is prepared (ready to restore),',
    'is started once as a scratch copy to count the rows of every table (written into it as ctl-rows.tsv, for restore drills),',
    "and gets a sha256 manifest of every file; the manifest's checksum, the size and the Galera position (uuid:seqno) are",
    'recorded in the run journal and printed. Restore with ctl runbook mariadb-restore <env> --from <dir>.',
  ].join('\n'),
  needs: 'databases.galera (members, socket, user/password; backupNode and backupDir optional); mariabackup on the node',

  setup({loaded, options}) {
    const cluster = galeraCluster(loaded)
    const node = backupMember(cluster, options.node)
    return {node, backupDir: cluster.backupDir, target: `${cluster.backupDir}/${backupStamp()}`}
  },

  steps: [
    {
      id: 'check-member',
      title: 'Check the member is Synced (the backup replica: replicating, within its lag limit)',
      risk: 'read',
      description:
        'A backup is taken from a member Synced in a Primary component, so it holds every committed write; from the backup replica only while both replication threads run and it lags at most backupReplica.maxLagSeconds.',
      plan: (state) => ({summary: `Check ${state.node}`, commands: []}),
      async act(ctx) {
        if (isBackupReplica(galeraCluster(ctx.loaded), ctx.state.node)) return checkReplica(ctx)
        const {status, error} = await access(ctx).status(ctx.state.node)
        if (!status)
          throw new CtlError(`Cannot read the wsrep status of ${ctx.state.node}: ${error}`, {
            host: ctx.state.node,
            exitCode: ExitCode.cannotRun,
            code: 'galera.not-running',
            hint: 'Is mariadbd running there? ctl runbook galera-recover <env> brings the cluster back.',
          })
        ctx.report([`${ctx.state.node}: ${status.clusterStatus}, ${status.localState}, size ${status.clusterSize}, seqno ${status.lastCommitted}`])
        if (status.clusterStatus !== 'Primary' || status.localState !== 'Synced') {
          throw new CtlError(`${ctx.state.node} is ${status.clusterStatus}/${status.localState}, not Synced in a Primary component`, {
            host: ctx.state.node,
            exitCode: ExitCode.cannotRun,
            code: 'galera.not-synced',
            hint: 'Back up a Synced member (--node), or recover the cluster first.',
          })
        }
      },
    },
    {
      id: 'backup',
      title: 'mariabackup --backup --galera-info',
      risk: 'change',
      description: 'Copies the datadir while the member keeps serving (InnoDB redo log copied alongside); the password travels on stdin as MYSQL_PWD.',
      plan: (state, loaded) => {
        const a = new GaleraCommands(loaded)
        return {
          summary: `Back up ${state.node} into ${state.target}`,
          commands: [{node: state.node, command: renderCommand(nodeBackupCommand(a, state))}],
        }
      },
      async act(ctx) {
        // A retried backup never writes into the directory of an interrupted one.
        if (ctx.resuming) ctx.state.target = `${ctx.state.backupDir}/${backupStamp()}`
        const a = access(ctx)
        const r = await ctx.run(ctx.state.node, nodeBackupCommand(a, ctx.state), {stdin: a.stdinSecret(), timeoutMs: 6 * 3600_000})
        if (r.code !== 0)
          throw new CtlError(`mariabackup --backup failed (exit ${r.code}): ${lastLines(r.stderr, 3, ' / ')}`, {
            host: ctx.state.node,
            code: 'mariadb.backup-failed',
            hint: `The partial backup stays in ${ctx.state.target} for inspection; fix the cause and run again.`,
          })
      },
    },
    {
      id: 'prepare',
      title: 'mariabackup --prepare',
      risk: 'change',
      description: 'Applies the copied redo log so the backup is consistent and ready for --copy-back.',
      plan: (state) => ({summary: `Prepare ${state.target}`, commands: [{node: state.node, command: renderCommand(prepareCommand(state.target))}]}),
      async act(ctx) {
        const r = await ctx.run(ctx.state.node, prepareCommand(ctx.state.target), {timeoutMs: 6 * 3600_000})
        if (r.code !== 0)
          throw new CtlError(`mariabackup --prepare failed (exit ${r.code})`, {
            host: ctx.state.node,
            code: 'mariadb.prepare-failed',
            hint: lastLines(r.stderr, 3),
          })
      },
    },
    {
      id: 'count-rows',
      title: 'Start a copy and count the rows of every table',
      risk: 'change',
      description: `Starts a bare mariadbd (no network, no Galera) on a scratch copy of the prepared backup under /var/tmp, counts every table's rows and writes them into the backup as ${MARIADB_ROWS_FILE} (under the manifest): what ctl backup verify's drill must find later. A backup that does not start fails here.`,
      plan: (state) => ({
        summary: `Count the rows of ${state.target} on a scratch copy`,
        commands: [{node: state.node, command: renderCommand(mariadbDrillCommand(state.target, {integrity: false}))}],
      }),
      async act(ctx) {
        const counted = await ctx.run(ctx.state.node, mariadbDrillCommand(ctx.state.target, {integrity: false}), {timeoutMs: 6 * 3600_000})
        const output = parseDrillOutput(counted.stdout)
        const verdict = judgeDrill(output, undefined, {path: ctx.state.target, node: ctx.state.node, verifiedAt: '', durationMs: 0})
        if (counted.code !== 0 || verdict.outcome !== 'passed')
          throw new CtlError(`The prepared backup does not start or read back: ${verdict.problems.join('; ') || `exit ${counted.code}`}`, {
            host: ctx.state.node,
            code: 'mariadb.backup-unreadable',
            hint: `The backup stays in ${ctx.state.target} for inspection (not complete: no manifest); take a new one.`,
          })
        await ctx.run(ctx.state.node, writeRecordCommand(`${ctx.state.target}/${MARIADB_ROWS_FILE}`), {
          stdin: rowsFileText(output.rows),
          check: true,
          timeoutMs: 60_000,
        })
        ctx.state.rowCounts = output.rows
        ctx.report([`${verdict.tables} table(s), ${verdict.rows} row(s) counted on a scratch copy`])
      },
    },
    {
      id: 'record',
      title: 'Record size, checksum and Galera position',
      risk: 'change',
      description: `Writes a sha256 manifest of every file into the backup and records the manifest's checksum, the size and xtrabackup_galera_info (uuid:seqno).`,
      plan: (state) => ({
        summary: `Checksum ${state.target}`,
        commands: [
          {node: state.node, command: renderCommand(recordCommand(state.target))},
          {node: state.node, command: renderCommand(readGaleraInfoCommand(state.target))},
        ],
      }),
      async act(ctx) {
        const r = await ctx.run(ctx.state.node, recordCommand(ctx.state.target), {check: true, timeoutMs: 3600_000})
        const record = parseRecord(r.stdout)
        if (!record) throw new CtlError('Could not read the checksum and size of the backup', {host: ctx.state.node, code: 'mariadb.record-failed'})
        ctx.state.record = record
        const fromReplica = isBackupReplica(galeraCluster(ctx.loaded), ctx.state.node)
        const info = await ctx.run(ctx.state.node, fromReplica ? readSlaveInfoCommand(ctx.state.target) : readGaleraInfoCommand(ctx.state.target), {
          check: true,
          timeoutMs: 30_000,
        })
        if (fromReplica) ctx.state.replicaGtid = parseSlaveInfoGtid(info.stdout)
        else ctx.state.position = parseGaleraInfo(info.stdout)
        ctx.report([
          `Backup: ${ctx.state.node}:${ctx.state.target}`,
          `Size: ${(record.sizeBytes / 1048576).toFixed(1)} MiB (${record.sizeBytes} bytes)`,
          `Checksum (sha256 of ctl-manifest.sha256): ${record.checksum}`,
          fromReplica
            ? `Replica position (its source's GTID): ${ctx.state.replicaGtid ?? 'unknown'}`
            : `Galera position: ${formatPosition(ctx.state.position)}`,
          `Restore: ctl runbook mariadb-restore ${ctx.loaded.env} --from ${ctx.state.target} --node ${ctx.state.node}`,
        ])
      },
    },
    {
      id: 'offsite',
      title: 'Ship the backup offsite, encrypted (restic)',
      risk: 'change',
      description:
        'With backups.offsite: restic on the node encrypts the backup (repository key: backups.offsite.encryptionKey) and sends it to the S3 storage; the keys reach restic on stdin. Made on first use (restic init).',
      plan(state, loaded) {
        const repo = mariadbResticRepo(loaded.inventory)
        if (!repo) return {summary: 'No backups.offsite', commands: [], skip: 'the inventory names no offsite storage: the backup stays on the node only'}
        const shipped = {name: posix.basename(state.target), checksum: state.record?.checksum ?? '<checksum>', sizeBytes: state.record?.sizeBytes ?? 0}
        return {
          summary: `Encrypt and send ${state.target} to ${repo.where}`,
          commands: [{node: state.node, command: renderCommand(resticShipCommand(repo, state.target, shipped)), note: 'S3 keys and repository key on stdin'}],
        }
      },
      async act(ctx) {
        const repo = mariadbResticRepo(ctx.loaded.inventory)!
        const record = ctx.state.record!
        const shipped = {name: posix.basename(ctx.state.target), checksum: record.checksum, sizeBytes: record.sizeBytes}
        ctx.progress(`restic: ${ctx.state.target} to ${repo.where}`)
        ctx.state.offsite = await shipWithRestic(ctx, ctx.state.node, repo, resticShipCommand(repo, ctx.state.target, shipped), {
          what: 'the backup',
          kept: `The backup itself is complete in ${ctx.state.target}.`,
          timeoutMs: 12 * 3600_000,
        })
      },
    },
  ],

  summarize: (state) => ({
    node: state.node,
    backup: state.target,
    sizeBytes: state.record?.sizeBytes,
    checksum: state.record?.checksum,
    position: state.position,
    replicaGtid: state.replicaGtid,
    rowCounts: state.rowCounts,
    offsite: state.offsite,
  }),
}
