import {mariadbResticRepo} from '../backups/restic.js'
import {shipWithRestic} from './restic-ship.js'
import {
  BINLOG_ARCHIVE_EXIT,
  binlogArchiveCommand,
  binlogArchiveDir,
  binlogShipCommand,
  parseBinlogArchiveRun,
  type ArchivedBinlog,
} from '../galera/binlog-archive.js'
import {backupMember, galeraCluster, memberOf} from '../galera/cluster.js'
import {resolveSecret} from '../inventory/secrets.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {renderCommand} from '../lib/shell.js'
import type {Runbook, StepContext} from './types.js'

export interface MariadbBinlogArchiveOptions {
  node?: string
}

export interface MariadbBinlogArchiveState {
  node: string
  archiveDir: string
  added?: string[]
  files?: ArchivedBinlog[]
  offsite?: {snapshot: string; where: string}
}

/** FLUSH BINARY LOGS on the node, then its closed binary logs into the archive; what the archive holds after. */
export async function archiveBinlogs(
  ctx: Pick<StepContext<unknown>, 'loaded' | 'run'>,
  node: string,
): Promise<{added: string[]; files: ArchivedBinlog[]; dir: string}> {
  const cluster = galeraCluster(ctx.loaded)
  const dir = binlogArchiveDir(cluster, node)
  const r = await ctx.run(node, binlogArchiveCommand(memberOf(cluster, node), cluster.user, dir, cluster.password !== undefined), {
    timeoutMs: 3600_000,
    ...(cluster.password ? {stdin: `${resolveSecret(ctx.loaded, cluster.password)}\n`} : {}),
  })
  if (r.code === BINLOG_ARCHIVE_EXIT.off)
    throw new CtlError(`Binary logging is off on ${node}: there is nothing to archive or replay after a backup`, {
      host: node,
      exitCode: ExitCode.cannotRun,
      code: 'mariadb.no-binlog',
      hint: 'Turn on log_bin and log_slave_updates on the members (a restart), then take a backup.',
    })
  if (r.code !== 0)
    throw new CtlError(
      `Archiving the binary logs on ${node} failed (${r.code === BINLOG_ARCHIVE_EXIT.sql ? 'FLUSH BINARY LOGS' : 'copy'}): ${lastLines(r, 2, ' ')}`,
      {
        host: node,
        code: 'mariadb.archive-failed',
        hint: r.code === BINLOG_ARCHIVE_EXIT.sql ? 'Is the server up, and may the SQL user RELOAD?' : `Check the space and permissions of ${dir}.`,
      },
    )
  return {...parseBinlogArchiveRun(r.stdout), dir}
}

export const mariadbBinlogArchive: Runbook<MariadbBinlogArchiveState, MariadbBinlogArchiveOptions> = {
  name: 'mariadb-binlog-archive',
  summary: "Archive the backup node's binary logs beside its backups and ship the archive offsite (restic), for point-in-time restores.",
  description: [
    'FLUSH BINARY LOGS on the backup node (every transaction so far lands in a closed file), then copies each closed',
    'file not yet archived into <backupDir>/.ctl-binlogs/<node> (a temporary name, then a rename; never changed after).',
    'With backups.offsite, restic encrypts the archive and sends it to the repository that holds the mariabackup',
    'backups, so `mariadb-restore --at TIME --repo offsite` can restore after the cluster and the backup node are gone.',
    'A mariadb-binlogs job in backups.schedule runs the same every few minutes: its interval is the RPO offsite.',
  ].join('\n'),
  needs: 'databases.galera (backupNode, backupDir, socket, user/password with RELOAD); binary logging on the backup node; backups.offsite to ship',

  // FLUSH BINARY LOGS is routine and the archive has its own lock on the node (flock), shared with the scheduled job.
  takesClusterLock: () => false,

  setup({loaded, options}) {
    const cluster = galeraCluster(loaded)
    const node = backupMember(cluster, options.node)
    return {node, archiveDir: binlogArchiveDir(cluster, node)}
  },

  steps: [
    {
      id: 'archive',
      title: 'Close the current binary log and archive the closed ones',
      risk: 'change',
      description: 'FLUSH BINARY LOGS, then every closed file not in the archive is copied in.',
      plan(state, loaded) {
        const cluster = galeraCluster(loaded)
        const command = binlogArchiveCommand(memberOf(cluster, state.node), cluster.user, state.archiveDir, cluster.password !== undefined)
        return {
          summary: `FLUSH BINARY LOGS on ${state.node}, closed files into ${state.archiveDir}`,
          commands: [{node: state.node, command: renderCommand(command), ...(cluster.password ? {note: 'SQL password on stdin'} : {})}],
        }
      },
      async act(ctx) {
        const run = await archiveBinlogs(ctx, ctx.state.node)
        ctx.state.added = run.added
        ctx.state.files = run.files
        const bytes = run.files.reduce((n, f) => n + f.sizeBytes, 0)
        ctx.report([
          `${run.added.length > 0 ? `Archived ${run.added.join(', ')}` : 'Nothing new to archive'}; ${run.dir} holds ${run.files.length} file(s), ${bytes} bytes.`,
        ])
      },
    },
    {
      id: 'offsite',
      title: 'Ship the archive offsite, encrypted (restic)',
      risk: 'change',
      description: 'With backups.offsite: restic backs the archive directory up into the repository of the mariabackup backups (only new data travels).',
      plan(state, loaded) {
        const repo = mariadbResticRepo(loaded.inventory)
        if (!repo) return {summary: 'No backups.offsite', commands: [], skip: 'the inventory names no offsite storage: the archive stays on the node only'}
        return {
          summary: `Encrypt and send ${state.archiveDir} to ${repo.where}`,
          commands: [
            {
              node: state.node,
              command: renderCommand(binlogShipCommand(repo, state.archiveDir, galeraCluster(loaded).name)),
              note: 'S3 keys and repository key on stdin',
            },
          ],
        }
      },
      async act(ctx) {
        const repo = mariadbResticRepo(ctx.loaded.inventory)!
        ctx.state.offsite = await shipWithRestic(ctx, ctx.state.node, repo, binlogShipCommand(repo, ctx.state.archiveDir, galeraCluster(ctx.loaded).name), {
          what: 'the binary-log archive',
          kept: `The archive itself is complete in ${ctx.state.archiveDir}.`,
          timeoutMs: 3600_000,
        })
      },
    },
  ],

  summarize: (state) => ({node: state.node, archive: state.archiveDir, added: state.added, files: state.files, offsite: state.offsite}),
}
