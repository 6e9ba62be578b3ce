import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {renderCommand} from '../lib/shell.js'
import {
  listSnapshotsCommand,
  parseSnapshotOutput,
  removeSnapshotsCommand,
  saveSnapshotCommand,
  snapshotName,
  snapshotsIn,
  snapshotsToPrune,
  type SnapshotStatus,
} from '../etcd/snapshot.js'
import {etcdCluster, memberNamed, readEtcdHealth, urlOf} from './etcd-common.js'
import type {Runbook} from './types.js'

export interface EtcdSnapshotState {
  /** The node that keeps the snapshots. */
  backupNode?: string
  /** The healthy member the snapshot is read from. */
  source?: string
  name?: string
  /** The snapshot's full path on backupNode. */
  file?: string
  status?: SnapshotStatus
  sha256?: string
  prune?: string[]
}

export const backupNodeOf = (loaded: Parameters<typeof etcdCluster>[0]) => etcdCluster(loaded).backupNode ?? etcdCluster(loaded).members[0]!.node

export const etcdSnapshot: Runbook<EtcdSnapshotState> = {
  name: 'etcd-snapshot',
  summary: "Save a verified etcd snapshot (every key, Patroni's and the others') on the backup node, and keep the newest ones.",
  description: [
    'Reads every member, takes `etcdctl snapshot save` from a healthy one into databases.etcd.backupDir on the backup',
    'node (a temporary name until whole), records `snapshot status` (hash, revision, keys) and its sha256 beside it,',
    'then removes all but the newest keepSnapshots. etcd-restore brings a snapshot back.',
  ].join('\n'),
  needs: 'databases.etcd (backupDir, backupNode, keepSnapshots); etcdctl on the backup node',
  setup({loaded}) {
    etcdCluster(loaded)
    return {}
  },
  steps: [
    {
      id: 'facts',
      title: 'Choose a healthy member to read from',
      risk: 'read',
      description: 'etcdctl endpoint health on each member.',
      plan: (_state, loaded) => ({summary: `Read the ${etcdCluster(loaded).members.length} members' health`, commands: []}),
      async gather(ctx) {
        const health = await readEtcdHealth(ctx)
        const healthy = health.filter((h) => h.healthy)
        if (healthy.length < Math.floor(health.length / 2) + 1)
          throw new CtlError(`Only ${healthy.length} of ${health.length} etcd members are healthy: a snapshot now may not hold the latest writes`, {
            exitCode: ExitCode.cannotRun,
            code: 'etcd.no-quorum',
            hint: `ctl check run ${ctx.loaded.env} etcd`,
          })
        ctx.state.backupNode = backupNodeOf(ctx.loaded)
        ctx.state.source = healthy[0]!.name
        ctx.state.name = snapshotName(new Date())
        ctx.state.file = `${etcdCluster(ctx.loaded).backupDir}/${ctx.state.name}`
        ctx.report([`Snapshot of ${ctx.state.source} into ${etcdCluster(ctx.loaded).backupDir}/${ctx.state.name} on ${ctx.state.backupNode}.`])
      },
    },
    {
      id: 'save',
      title: 'Save and verify the snapshot',
      risk: 'change',
      description: 'etcdctl snapshot save to a temporary name, snapshot status and sha256 beside it, then the final name.',
      plan: (state, loaded) =>
        state.name
          ? {
              summary: `Save ${state.name}`,
              commands: [
                {
                  node: state.backupNode!,
                  command: renderCommand(saveSnapshotCommand(etcdCluster(loaded).backupDir, state.name, urlOf(loaded, memberNamed(loaded, state.source!)))),
                },
              ],
            }
          : {summary: 'After the facts', commands: []},
      async act(ctx) {
        const dir = etcdCluster(ctx.loaded).backupDir
        const r = await ctx.run(
          ctx.state.backupNode!,
          saveSnapshotCommand(dir, ctx.state.name!, urlOf(ctx.loaded, memberNamed(ctx.loaded, ctx.state.source!))),
          {
            timeoutMs: 300_000,
          },
        )
        const saved = r.code === 0 ? parseSnapshotOutput(r.stdout) : undefined
        if (!saved)
          throw new CtlError(`etcd snapshot failed on ${ctx.state.backupNode}: ${lastLines(r, 2, ' ')}`, {
            host: ctx.state.backupNode,
            code: 'etcd.snapshot-failed',
            hint: `Is there room in ${dir}? Is etcdctl installed on ${ctx.state.backupNode}?`,
          })
        ctx.state.status = saved.status
        ctx.state.sha256 = saved.sha256
        ctx.report([
          `${ctx.state.name}: revision ${saved.status.revision}, ${saved.status.totalKey} keys, ${saved.status.totalSize} bytes, sha256 ${saved.sha256}.`,
        ])
      },
    },
    {
      id: 'prune',
      title: 'Keep the newest snapshots',
      risk: 'change',
      description: 'Removes all but the newest databases.etcd.keepSnapshots snapshots (and their status and sha256 files).',
      plan: (state, loaded) =>
        state.prune && state.prune.length > 0
          ? {
              summary: `Remove ${state.prune.length} older snapshot(s), keep ${etcdCluster(loaded).keepSnapshots}`,
              commands: [{node: state.backupNode!, command: renderCommand(removeSnapshotsCommand(etcdCluster(loaded).backupDir, state.prune))}],
            }
          : {summary: 'Nothing to remove', commands: [], skip: `at most ${etcdCluster(loaded).keepSnapshots} snapshots kept`},
      async gather(ctx) {
        if (!ctx.state.backupNode) return
        const r = await ctx.run(ctx.state.backupNode, listSnapshotsCommand(etcdCluster(ctx.loaded).backupDir), {timeoutMs: 30_000})
        // A dry run saved nothing: count the one it would have saved.
        const present = snapshotsIn(r.stdout)
        const all = ctx.dryRun && ctx.state.name ? [...present, ctx.state.name] : present
        ctx.state.prune = snapshotsToPrune(all, etcdCluster(ctx.loaded).keepSnapshots).filter((n) => n !== ctx.state.name)
      },
      async act(ctx) {
        const r = await ctx.run(ctx.state.backupNode!, removeSnapshotsCommand(etcdCluster(ctx.loaded).backupDir, ctx.state.prune!), {timeoutMs: 60_000})
        if (r.code !== 0) throw new CtlError(`Removing old snapshots failed: ${lastLines(r, 2, ' ')}`, {host: ctx.state.backupNode, code: 'etcd.prune-failed'})
      },
    },
  ],
  summarize: (state) => ({node: state.backupNode, file: state.file, status: state.status, sha256: state.sha256, pruned: state.prune}),
}
