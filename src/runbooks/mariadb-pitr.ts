import {
  isWrongResticKey,
  mariadbResticRepo,
  parseResticSnapshots,
  resticEnvLines,
  resticSecretsStdin,
  resticSnapshotsScript,
  type ResticRepo,
} from '../backups/restic.js'
import {backupStamp} from '../galera/backup.js'
import {
  binlogArchiveCommand,
  binlogArchiveDir,
  newestBinlogSnapshot,
  offsiteBinlogFilesCommand,
  offsiteBinlogSnapshotsCommand,
  parseOffsiteBinlogFiles,
  type ArchivedBinlog,
} from '../galera/binlog-archive.js'
import {backupMember, galeraCluster, memberOf} from '../galera/cluster.js'
import {
  binlogFilesFrom,
  chooseMariadbPitrBackup,
  listPitrBackupsCommand,
  MARIADB_PITR_EXIT,
  mariadbOffsitePitrRestoreCommand,
  mariadbPitrRestoreCommand,
  mariadbScratchCleanupCommand,
  mariadbScratchRowCountsCommand,
  parsePitrBackups,
  type MariadbPitrBackup,
  type MariadbScratch,
} from '../galera/pitr.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {renderCommand, type RemoteCommand} from '../lib/shell.js'
import {table} from './render.js'
import {archiveBinlogs} from './mariadb-binlog-archive.js'
import {countScratchRows, requireRestoreTime} from './pitr-common.js'
import type {Runbook, StepContext} from './types.js'

export interface MariadbPitrOptions {
  at: string
  node?: string
  /** local (default): the backups and the archive on the node; offsite: both from the restic repository. */
  repo?: 'local' | 'offsite'
}

export interface MariadbPitrState {
  requested: string
  /** An ISO time, or 'latest' (every archived binary log). */
  target: string
  node: string
  stamp: string
  repo: 'local' | 'offsite'
  backup?: MariadbPitrBackup
  stopDatetime?: string
  /** The binary-log archive on the node (local), or its path inside the offsite snapshot. */
  binlogDir?: string
  binlogSnapshot?: string
  binlogFiles?: string[]
  scratch?: MariadbScratch
  cleanup?: string
  replayed?: string
  rows?: Record<string, number>
}

type Ctx = StepContext<MariadbPitrState>

const FAILURES: Record<number, string> = {
  [MARIADB_PITR_EXIT.exists]: 'the scratch directory exists already',
  [MARIADB_PITR_EXIT.copy]: 'the backup could not be copied',
  [MARIADB_PITR_EXIT.start]: 'the copy did not start',
  [MARIADB_PITR_EXIT.replay]: 'the binary logs could not be replayed',
  [MARIADB_PITR_EXIT.fetch]: 'restic could not restore the backup or the binary-log archive',
  [MARIADB_PITR_EXIT.integrity]: "the fetched backup does not match ctl's manifest (damaged or tampered)",
}

const targetDate = (state: MariadbPitrState): Date | 'latest' => (state.target === 'latest' ? 'latest' : new Date(state.target))

/** The files to replay: from the backup's file onwards, or an error naming what is missing. */
function filesFromBackup(ctx: Ctx, archived: readonly ArchivedBinlog[], where: string): string[] {
  const files = binlogFilesFrom(
    archived.map((f) => f.name),
    ctx.state.backup!.binlog.file,
  )
  if (!files)
    throw new CtlError(`${ctx.state.backup!.binlog.file}, where the backup's position is, is not in ${where}`, {
      host: ctx.state.node,
      exitCode: ExitCode.cannotRun,
      code: 'mariadb.binlog-gone',
      hint: 'It was purged before it was archived, or the backup came from another server (--node): choose a later time or a newer backup.',
    })
  return files
}

function offsiteRepo(ctx: Pick<Ctx, 'loaded'>): ResticRepo {
  const repo = mariadbResticRepo(ctx.loaded.inventory)
  if (!repo)
    throw new CtlError('--repo offsite needs backups.offsite in the inventory', {
      exitCode: ExitCode.cannotRun,
      code: 'mariadb.no-offsite',
      hint: 'Describe the S3 storage under backups.offsite (docs/BACKUPS.md).',
    })
  return repo
}

/** Runs a restic listing on the node (keys on stdin); a wrong key is named as such. */
async function resticRead(ctx: Ctx, command: RemoteCommand, what: string): Promise<string> {
  const r = await ctx.run(ctx.state.node, command, {stdin: resticSecretsStdin(ctx.loaded), timeoutMs: 300_000})
  if (r.code !== 0)
    throw new CtlError(`Listing ${what} offsite failed: ${lastLines(r, 2, ' ')}`, {
      host: ctx.state.node,
      exitCode: ExitCode.cannotRun,
      code: isWrongResticKey(r.stderr) ? 'offsite.wrong-key' : 'offsite.unreachable',
      hint: isWrongResticKey(r.stderr)
        ? 'backups.offsite.encryptionKey is not the key of that repository.'
        : 'Check backups.offsite (endpoint, caFile, keys) and that restic is installed on the node.',
    })
  return r.stdout
}

/** restic's JSON listing; anything else is an empty one. */
function jsonOrEmpty(text: string): unknown {
  try {
    return JSON.parse(text || '[]')
  } catch {
    return []
  }
}

async function offsiteFacts(ctx: Ctx): Promise<MariadbPitrBackup[]> {
  const repo = offsiteRepo(ctx)
  const json = jsonOrEmpty(await resticRead(ctx, {script: resticSnapshotsScript(repo)}, 'the backups'))
  return parseResticSnapshots(json)
    .filter((s) => s.binlog && s.pointAt && s.checksum)
    .map((s) => ({dir: s.path, binlog: s.binlog!, pointAt: s.pointAt!, snapshot: s.id}))
    .sort((a, b) => a.pointAt.localeCompare(b.pointAt))
}

async function offsiteBinlogs(ctx: Ctx): Promise<void> {
  const repo = offsiteRepo(ctx)
  const archiveDir = binlogArchiveDir(galeraCluster(ctx.loaded), ctx.state.node)
  const newest = newestBinlogSnapshot(jsonOrEmpty(await resticRead(ctx, offsiteBinlogSnapshotsCommand(repo, archiveDir), 'the binary-log archive')))
  if (!newest)
    throw new CtlError(`No binary-log archive of ${ctx.state.node} offsite (${repo.where}): only the backups themselves can be restored`, {
      host: ctx.state.node,
      exitCode: ExitCode.cannotRun,
      code: 'mariadb.no-offsite-binlogs',
      hint: 'Archive them regularly: ctl runbook mariadb-binlog-archive <env>, or a mariadb-binlogs job in backups.schedule. To restore a backup as it is: ctl backup fetch, then mariadb-restore --from.',
    })
  const files = parseOffsiteBinlogFiles(await resticRead(ctx, offsiteBinlogFilesCommand(repo, newest.snapshot, archiveDir), 'the archived files'), archiveDir)
  ctx.state.binlogSnapshot = newest.snapshot
  ctx.state.binlogDir = archiveDir
  ctx.state.binlogFiles = filesFromBackup(ctx, files, `the offsite archive (snapshot ${newest.snapshot.slice(0, 8)} of ${newest.time})`)
}

export const mariadbPitr: Runbook<MariadbPitrState, MariadbPitrOptions> = {
  name: 'mariadb-pitr',
  summary:
    "Point-in-time restore of the Galera cluster's data into a scratch server on the backup node: a mariabackup backup, then the archived binary logs up to the time. Production untouched.",
  description: [
    'Chooses the newest complete mariadb-backup backup whose consistent point (its binlog position) is before --at, archives',
    "the node's binary logs (FLUSH BINARY LOGS, then every closed file copied into <backupDir>/.ctl-binlogs/<node>), copies",
    'the backup into a new directory under /var/tmp on the backup node, starts a bare mariadbd on it (socket only, no',
    "Galera, no grant tables) and replays the archived binary logs from the backup's position up to --at (mariadb-binlog",
    "--stop-datetime, UTC). Binary-log events carry whole seconds: transactions in the target's own second are not",
    'replayed, nothing after it ever is. --at latest replays every archived file.',
    'With --repo offsite (after losing the cluster and the backup node): the backup and the binary-log archive come from',
    "the restic repository (backups.offsite; shipped by mariadb-backup and mariadb-binlog-archive), the backup's manifest",
    'is checked, and nothing on the cluster is read.',
    'Every table is counted; the server is left running for you to read or dump from (the run says how to remove it).',
    '`ctl runbook mariadb-restore <env> --at TIME` runs this runbook. Needs log_bin and log_slave_updates on the member.',
  ].join('\n'),
  needs:
    'databases.galera (backupNode, backupDir, socket, user/password); binary logging on the backup node; mariadb-backup backups (offsite: backups.offsite)',

  // It restores into a scratch server: nothing on the cluster changes, and offsite it must run with the cluster's hosts gone.
  takesClusterLock: () => false,

  setup({loaded, options}) {
    const cluster = galeraCluster(loaded)
    const at = requireRestoreTime(options.at, {latest: true})
    const node = backupMember(cluster, options.node)
    const repo = options.repo ?? 'local'
    if (repo === 'offsite') offsiteRepo({loaded})
    return {requested: options.at, target: at === 'latest' ? 'latest' : at.toISOString(), node, stamp: backupStamp(), repo}
  },

  steps: [
    {
      id: 'facts',
      title: 'Choose the backup',
      risk: 'read',
      description:
        'Lists the complete backups with a binlog position (on the node, or offsite in the restic repository) and chooses the newest whose consistent point is before the target.',
      plan: (state, loaded) => ({
        summary: `Backups ${state.repo === 'offsite' ? 'offsite' : `on ${state.node}`} able to reach ${state.target}`,
        commands:
          state.repo === 'offsite'
            ? [{node: state.node, command: renderCommand({script: resticSnapshotsScript(offsiteRepo({loaded}))}), note: 'S3 keys and repository key on stdin'}]
            : [{node: state.node, command: renderCommand(listPitrBackupsCommand(galeraCluster(loaded).backupDir))}],
      }),
      async act(ctx) {
        const cluster = galeraCluster(ctx.loaded)
        const backups =
          ctx.state.repo === 'offsite'
            ? await offsiteFacts(ctx)
            : parsePitrBackups((await ctx.run(ctx.state.node, listPitrBackupsCommand(cluster.backupDir), {timeoutMs: 120_000})).stdout)
        if (backups.length > 0)
          ctx.report(
            table(
              ['backup', 'consistent at', 'binlog position'],
              backups.map((b) => [b.snapshot ? `${b.dir} (${b.snapshot.slice(0, 8)})` : b.dir, b.pointAt, `${b.binlog.file}:${b.binlog.position}`]),
            ),
          )
        const choice = chooseMariadbPitrBackup(backups, targetDate(ctx.state), new Date())
        if (!choice.ok)
          throw new CtlError(`Cannot restore to ${ctx.state.target}: ${choice.reason}`, {exitCode: ExitCode.cannotRun, code: choice.code, hint: choice.hint})
        ctx.state.backup = choice.backup
        if (choice.stopDatetime) ctx.state.stopDatetime = choice.stopDatetime
        ctx.state.scratch = {node: ctx.state.node, dir: `/var/tmp/ctl-mpitr-${cluster.name}-${ctx.state.stamp}`}
        if (ctx.state.repo === 'offsite') await offsiteBinlogs(ctx)
        ctx.report([
          `Target ${ctx.state.target}: backup ${choice.backup.dir} (consistent at ${choice.backup.pointAt}), then the binary logs ${choice.stopDatetime ? `until ${choice.stopDatetime} UTC` : 'to their end'}.`,
        ])
      },
    },
    {
      id: 'archive',
      title: 'Archive the binary logs (FLUSH BINARY LOGS, copy the closed files)',
      risk: 'change',
      description:
        "So every transaction up to now is in a closed file of the archive, which the replay reads whole; files the server purged already are still there if archived before. Offsite: the archive's newest snapshot instead (nothing on the cluster is touched).",
      plan: (state, loaded) => {
        if (state.repo === 'offsite') return {summary: 'Offsite: the archive snapshot chosen in facts', commands: [], skip: 'the binary logs come from offsite'}
        const cluster = galeraCluster(loaded)
        const command = binlogArchiveCommand(memberOf(cluster, state.node), cluster.user, binlogArchiveDir(cluster, state.node), cluster.password !== undefined)
        return {
          summary: `FLUSH BINARY LOGS on ${state.node}, closed files into ${binlogArchiveDir(cluster, state.node)}`,
          commands: [{node: state.node, command: renderCommand(command), ...(cluster.password ? {note: 'SQL password on stdin'} : {})}],
        }
      },
      async act(ctx) {
        if (ctx.state.repo === 'offsite') return
        const archived = await archiveBinlogs(ctx, ctx.state.node)
        ctx.state.binlogDir = archived.dir
        ctx.state.binlogFiles = filesFromBackup(ctx, archived.files, `the binary-log archive ${archived.dir}`)
      },
    },
    {
      id: 'restore',
      title: 'Restore the backup into a scratch server and replay the binary logs',
      risk: 'change',
      description:
        "Copies the backup (offsite: restic restores it and the archive first, the manifest checked) into a new directory under /var/tmp, starts a bare mariadbd there (socket only), replays the binlogs from the backup's position up to the target.",
      plan(state, loaded) {
        if (!state.scratch || !state.backup || !state.binlogFiles) return {summary: 'Needs the backup first', commands: []}
        return {
          summary: `Restore ${state.backup.dir} into ${state.node}:${state.scratch.dir}, replay ${state.stopDatetime ? `until ${state.stopDatetime} UTC` : 'every archived binary log'}`,
          commands: [
            {
              node: state.node,
              command: renderCommand(restoreCommand(state, loaded)),
              ...(state.repo === 'offsite' ? {note: 'S3 keys and repository key on stdin'} : {}),
            },
          ],
        }
      },
      async act(ctx) {
        const x = ctx.state.scratch!
        ctx.progress(`restoring ${ctx.state.backup!.dir} into ${x.dir}`)
        const r = await ctx.run(x.node, restoreCommand(ctx.state, ctx.loaded), {
          timeoutMs: 12 * 3600_000,
          ...(ctx.state.repo === 'offsite' ? {stdin: resticSecretsStdin(ctx.loaded)} : {}),
        })
        if (r.code !== 0) {
          if (r.code !== MARIADB_PITR_EXIT.exists) await ctx.run(x.node, mariadbScratchCleanupCommand(x))
          throw new CtlError(`Point-in-time restore failed: ${FAILURES[r.code] ?? `exit ${r.code}`}: ${lastLines(r, 3, ' ')}`, {
            host: x.node,
            code: r.code === MARIADB_PITR_EXIT.integrity ? 'mariadb.pitr-tampered' : 'mariadb.pitr-failed',
            hint: 'Nothing is left behind; look at the message, then run again.',
          })
        }
        ctx.state.replayed = r.stdout.trim()
        ctx.state.cleanup = renderCommand(mariadbScratchCleanupCommand(x))
        ctx.report([
          ctx.state.replayed,
          `The restored server runs on ${x.node} (socket only): mariadb --no-defaults --socket=${x.dir}/sock`,
          `Remove it when done: ${ctx.state.cleanup}`,
        ])
      },
    },
    {
      id: 'verify',
      title: 'Read every table of the restored server',
      risk: 'read',
      description: 'Counts the rows of every base table (each must be readable).',
      plan(state) {
        if (!state.scratch) return {summary: 'After the restore', commands: [], skip: 'runs after the restore'}
        return {
          summary: `Count rows in ${state.scratch.dir}`,
          commands: [{node: state.node, command: renderCommand(mariadbScratchRowCountsCommand(state.scratch))}],
        }
      },
      async act(ctx) {
        ctx.state.rows = await countScratchRows(ctx, ctx.state.node, mariadbScratchRowCountsCommand(ctx.state.scratch!), 'mariadb.pitr-unreadable')
      },
    },
  ],

  summarize(state) {
    const x = state.scratch
    return {
      target: state.target,
      requested: state.requested,
      repo: state.repo,
      backup: state.backup?.dir,
      ...(state.backup?.snapshot ? {snapshot: state.backup.snapshot, binlogSnapshot: state.binlogSnapshot} : {}),
      stopDatetime: state.stopDatetime,
      binlogs: state.binlogFiles,
      scratch: x && {node: x.node, dir: x.dir, socket: `${x.dir}/sock`, remove: state.cleanup},
      rows: state.rows,
    }
  },
}

function restoreCommand(state: MariadbPitrState, loaded: Ctx['loaded']): RemoteCommand {
  const x = state.scratch!
  const backup = state.backup!
  if (state.repo === 'offsite')
    return mariadbOffsitePitrRestoreCommand(
      x,
      {...backup, snapshot: backup.snapshot!},
      {snapshot: state.binlogSnapshot!, archiveDir: state.binlogDir!},
      state.binlogFiles!,
      state.stopDatetime,
      resticEnvLines(offsiteRepo({loaded})),
    )
  return mariadbPitrRestoreCommand(x, backup, state.binlogDir!, state.binlogFiles!, state.stopDatetime)
}
