import {backupStamp} from '../galera/backup.js'
import {backupMember, GaleraAccess, galeraCluster} from '../galera/cluster.js'
import {
  binlogFilesFrom,
  chooseMariadbPitrBackup,
  listPitrBackupsCommand,
  MARIADB_PITR_EXIT,
  mariadbPitrRestoreCommand,
  mariadbScratchCleanupCommand,
  mariadbScratchRowCountsCommand,
  parsePitrBackups,
  type MariadbPitrBackup,
  type MariadbScratch,
} from '../galera/pitr.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {renderCommand} from '../lib/shell.js'
import {table} from './render.js'
import {countScratchRows, requireRestoreTime} from './pitr-common.js'
import type {Runbook, StepContext} from './types.js'

export interface MariadbPitrOptions {
  at: string
  node?: string
}

export interface MariadbPitrState {
  requested: string
  target: string
  node: string
  stamp: string
  backup?: MariadbPitrBackup
  stopDatetime?: string
  binlogDir?: string
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
}

/** The binary logs the member keeps: their directory and names, in order (SHOW BINARY LOGS). */
async function readBinlogs(ctx: Ctx): Promise<{dir: string; files: string[]}> {
  const a = new GaleraAccess(ctx.loaded, ctx)
  const base = await a.sql(ctx.state.node, 'SELECT @@log_bin, @@log_bin_basename')
  const [on = '0', basename = ''] = base.stdout.trim().split('\t')
  if (base.code !== 0 || on !== '1' || !basename.includes('/'))
    throw new CtlError(`Binary logging is ${base.code === 0 ? 'off' : 'unreadable'} on ${ctx.state.node}: there is nothing to replay after a backup`, {
      host: ctx.state.node,
      exitCode: ExitCode.cannotRun,
      code: 'mariadb.no-binlog',
      hint: base.code === 0 ? 'Turn on log_bin and log_slave_updates on the members (a restart), then take a backup.' : lastLines(base, 2, ' '),
    })
  const list = await a.sql(ctx.state.node, 'SHOW BINARY LOGS')
  if (list.code !== 0)
    throw new CtlError(`SHOW BINARY LOGS failed on ${ctx.state.node}: ${lastLines(list, 2, ' ')}`, {host: ctx.state.node, code: 'mariadb.no-binlog'})
  const files = list.stdout
    .split('\n')
    .map((l) => l.split('\t')[0]!)
    .filter(Boolean)
  return {dir: basename.slice(0, basename.lastIndexOf('/')), files}
}

export const mariadbPitr: Runbook<MariadbPitrState, MariadbPitrOptions> = {
  name: 'mariadb-pitr',
  summary:
    "Point-in-time restore of the Galera cluster's data into a scratch server on the backup node: a mariabackup backup, then the binary logs up to the time. Production untouched.",
  description: [
    'Chooses the newest complete mariadb-backup backup whose consistent point (its binlog position) is before --at, has',
    'the member close its current binary log (FLUSH BINARY LOGS), copies the backup into a new directory under /var/tmp',
    'on the backup node, starts a bare mariadbd on it (socket only, no Galera, no grant tables) and replays the',
    "member's binary logs from the backup's position up to --at (mariadb-binlog --stop-datetime, UTC). Binary-log",
    "events carry whole seconds: transactions in the target's own second are not replayed, nothing after it ever is.",
    'Every table is counted; the server is left running for you to read or dump from (the run says how to remove it).',
    '`ctl runbook mariadb-restore <env> --at TIME` runs this runbook. Needs log_bin and log_slave_updates on the member.',
  ].join('\n'),
  needs: 'databases.galera (backupNode, backupDir, socket, user/password); binary logging on the backup node; mariadb-backup backups',

  setup({loaded, options}) {
    const cluster = galeraCluster(loaded)
    const at = requireRestoreTime(options.at, {latest: false}) as Date
    return {requested: options.at, target: at.toISOString(), node: backupMember(cluster, options.node), stamp: backupStamp()}
  },

  steps: [
    {
      id: 'facts',
      title: 'Choose the backup and the binary logs',
      risk: 'read',
      description:
        "Lists the complete backups with a binlog position on the node, chooses the newest whose consistent point is before the target, and reads the member's binary logs (SHOW BINARY LOGS).",
      plan: (state, loaded) => ({
        summary: `Backups on ${state.node} able to reach ${state.target}`,
        commands: [{node: state.node, command: renderCommand(listPitrBackupsCommand(galeraCluster(loaded).backupDir))}],
      }),
      async act(ctx) {
        const cluster = galeraCluster(ctx.loaded)
        const listed = await ctx.run(ctx.state.node, listPitrBackupsCommand(cluster.backupDir), {timeoutMs: 120_000})
        const backups = parsePitrBackups(listed.stdout)
        if (backups.length > 0)
          ctx.report(
            table(
              ['backup', 'consistent at', 'binlog position'],
              backups.map((b) => [b.dir, b.pointAt, `${b.binlog.file}:${b.binlog.position}`]),
            ),
          )
        const choice = chooseMariadbPitrBackup(backups, new Date(ctx.state.target), new Date())
        if (!choice.ok)
          throw new CtlError(`Cannot restore to ${ctx.state.target}: ${choice.reason}`, {exitCode: ExitCode.cannotRun, code: choice.code, hint: choice.hint})
        ctx.state.backup = choice.backup
        ctx.state.stopDatetime = choice.stopDatetime
        const binlogs = await readBinlogs(ctx)
        const files = binlogFilesFrom(binlogs.files, choice.backup.binlog.file)
        if (!files)
          throw new CtlError(`${choice.backup.binlog.file}, where the backup's position is, is no longer among ${ctx.state.node}'s binary logs`, {
            host: ctx.state.node,
            exitCode: ExitCode.cannotRun,
            code: 'mariadb.binlog-gone',
            hint: 'It was purged (binlog_expire_logs_seconds) or the backup came from another member: choose a later time or a newer backup.',
          })
        ctx.state.binlogDir = binlogs.dir
        ctx.state.binlogFiles = files
        ctx.state.scratch = {node: ctx.state.node, dir: `/var/tmp/ctl-mpitr-${cluster.name}-${ctx.state.stamp}`}
        ctx.report([
          `Target ${ctx.state.target}: backup ${choice.backup.dir} (consistent at ${choice.backup.pointAt}), then ${files.join(', ')} until ${choice.stopDatetime} UTC.`,
        ])
      },
    },
    {
      id: 'flush',
      title: 'Close the current binary log (FLUSH BINARY LOGS)',
      risk: 'change',
      description: 'So every transaction up to now is in a closed file that the replay reads whole; the list of files is read again.',
      plan: (state) => ({summary: `FLUSH BINARY LOGS on ${state.node}`, commands: []}),
      async act(ctx) {
        const a = new GaleraAccess(ctx.loaded, ctx)
        const r = await a.sql(ctx.state.node, 'FLUSH BINARY LOGS')
        if (r.code !== 0)
          throw new CtlError(`FLUSH BINARY LOGS failed on ${ctx.state.node}: ${lastLines(r, 2, ' ')}`, {host: ctx.state.node, code: 'mariadb.flush-failed'})
        const binlogs = await readBinlogs(ctx)
        // The closed files only: the newest one was opened by the flush and holds nothing before it.
        ctx.state.binlogFiles = binlogFilesFrom(binlogs.files, ctx.state.backup!.binlog.file)!.slice(0, -1)
      },
    },
    {
      id: 'restore',
      title: 'Restore the backup into a scratch server and replay the binary logs',
      risk: 'change',
      description:
        "Copies the backup into a new directory under /var/tmp, starts a bare mariadbd there (socket only), replays the binlogs from the backup's position up to the target.",
      plan(state) {
        if (!state.scratch || !state.backup || !state.binlogFiles) return {summary: 'Needs the backup first', commands: []}
        return {
          summary: `Restore ${state.backup.dir} into ${state.node}:${state.scratch.dir}, replay until ${state.stopDatetime} UTC`,
          commands: [
            {
              node: state.node,
              command: renderCommand(mariadbPitrRestoreCommand(state.scratch, state.backup, state.binlogDir!, state.binlogFiles, state.stopDatetime!)),
            },
          ],
        }
      },
      async act(ctx) {
        const x = ctx.state.scratch!
        ctx.progress(`restoring ${ctx.state.backup!.dir} into ${x.dir}`)
        const r = await ctx.run(
          x.node,
          mariadbPitrRestoreCommand(x, ctx.state.backup!, ctx.state.binlogDir!, ctx.state.binlogFiles!, ctx.state.stopDatetime!),
          {
            timeoutMs: 12 * 3600_000,
          },
        )
        if (r.code !== 0) {
          if (r.code !== MARIADB_PITR_EXIT.exists) await ctx.run(x.node, mariadbScratchCleanupCommand(x))
          throw new CtlError(`Point-in-time restore failed: ${FAILURES[r.code] ?? `exit ${r.code}`}: ${lastLines(r, 3, ' ')}`, {
            host: x.node,
            code: 'mariadb.pitr-failed',
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
      backup: state.backup?.dir,
      stopDatetime: state.stopDatetime,
      binlogs: state.binlogFiles,
      scratch: x && {node: x.node, dir: x.dir, socket: `${x.dir}/sock`, remove: state.cleanup},
      rows: state.rows,
    }
  },
}
