import {CtlError, ExitCode} from '../lib/errors.js'
import {renderCommand} from '../lib/shell.js'
import {backupMember, GaleraAccess, GaleraCommands, galeraCluster, isBackupReplica} from '../galera/cluster.js'
import {
  backupStamp,
  copyBackCommand,
  isPreparedCommand,
  moveDatadirAsideCommand,
  parseGaleraInfo,
  readGaleraInfoCommand,
  parseSlaveInfoGtid,
  readSlaveInfoCommand,
  verifyBackupCommand,
  writeGrastateCommand,
} from '../galera/backup.js'
import {NEW_CLUSTER_FLAG, startPositionFlag, takesStartArguments} from '../galera/commands.js'
import {formatPosition, type NodeFacts, type Position} from '../galera/facts.js'
import {requireVerified, verificationReport, verifyGalera, type GaleraVerification} from '../galera/verify.js'
import {factsTable} from './galera-recover.js'
import type {PlannedCommand, Runbook, StepContext} from './types.js'
import {lastLines} from '../lib/output.js'

export interface MariadbRestoreOptions {
  /** The backup directory on the node (made by mariadb-backup). */
  from: string
  /** The member holding the backup, which is restored and bootstraps (default: backupNode, else the first member). */
  node?: string
}

export interface MariadbRestoreState {
  node: string
  from: string
  members: string[]
  /** Suffix of the moved-aside datadirs: `<datadir>.before-restore-<stamp>`. */
  stamp: string
  position?: Position
  /** A backup of the backup replica: no Galera position, its source's GTID; the cluster starts a new history. */
  replicaGtid?: string
  checksum?: string
  facts: NodeFacts[]
  movedAside: Record<string, string>
  restored: boolean
  bootstrapped: boolean
  reseeded: string[]
  verification?: GaleraVerification
}

type Ctx = StepContext<MariadbRestoreState>

const access = (ctx: Ctx) => new GaleraAccess(ctx.loaded, ctx)
const backupPosition = (state: Pick<MariadbRestoreState, 'position' | 'replicaGtid'>) =>
  state.position
    ? `Galera position ${formatPosition(state.position)}`
    : `the backup replica's position (GTID ${state.replicaGtid}; the cluster starts a new history from it)`
const asidePath = (datadir: string, stamp: string) => `${datadir}.before-restore-${stamp}`
const others = (state: MariadbRestoreState) => state.members.filter((m) => m !== state.node)

function startArgs(a: GaleraCommands, node: string, bootstrap: boolean, position?: Position): string[] {
  const args = bootstrap ? [NEW_CLUSTER_FLAG] : []
  if (bootstrap && position && takesStartArguments(a.member(node))) args.push(startPositionFlag(position))
  return args
}

/**
 * Refuses when mariadbd runs on any of `nodes`: checked right before a datadir is moved or a member
 * started, on the first run and on --resume (someone may have started a member since it was stopped).
 */
async function requireStopped(a: GaleraAccess, nodes: readonly string[], action: string): Promise<void> {
  const running: string[] = []
  for (const node of nodes) if (await a.isRunning(node)) running.push(node)
  if (running.length === 0) return
  throw new CtlError(`mariadbd runs on ${running.join(', ')}: not ${action}`, {
    host: running[0],
    exitCode: ExitCode.cannotRun,
    code: 'mariadb.member-running',
    hint: `It was started since the members were stopped; its datadir was not touched. Stop it (control stop on ${running.join(', ')}), then continue with --resume.`,
  })
}

/** Moves a member's datadir aside unless that was done already (a resumed run). */
async function moveAside(ctx: Ctx, a: GaleraAccess, node: string): Promise<void> {
  if (ctx.state.movedAside[node]) return
  const datadir = a.member(node).datadir
  const aside = asidePath(datadir, ctx.state.stamp)
  await ctx.run(node, moveDatadirAsideCommand(datadir, aside), {check: true, timeoutMs: 600_000})
  ctx.state.movedAside[node] = aside
  ctx.progress(`${node}: old datadir kept at ${aside}`)
}

export const mariadbRestore: Runbook<MariadbRestoreState, MariadbRestoreOptions> = {
  name: 'mariadb-restore',
  summary: 'Return a Galera cluster to a mariabackup backup: restore one member, bootstrap it, re-seed the others from it.',
  description: [
    'Checks the backup against its manifest (size and checksum as recorded by mariadb-backup), then stops every member,',
    "moves the restored member's datadir aside (<datadir>.before-restore-<time>: never deleted), copies the backup back",
    "(--copy-back), fixes ownership, writes grastate.dat from the backup's Galera position and bootstraps from it (the",
    "backup is the newest data the cluster will have). The other members' datadirs are moved aside too and each joins by a",
    "full state transfer, one at a time. Verifies Primary, size, Synced, the backup's uuid, and a write read elsewhere.",
  ].join('\n'),
  needs: 'databases.galera (members with datadir and control; user/password); a prepared backup from ctl runbook mariadb-backup on the node',

  setup({loaded, options}) {
    const cluster = galeraCluster(loaded)
    const node = backupMember(cluster, options.node)
    if (isBackupReplica(cluster, node))
      throw new CtlError(`${node} is the backup replica, not a Galera member: a restore bootstraps the cluster from a member`, {
        exitCode: ExitCode.cannotRun,
        code: 'mariadb.restore-on-replica',
        hint: `Copy the backup to a member (e.g. rsync -a ${node}:<backup> ${cluster.backupReplica!.source}:<backup>) and run again with --node ${cluster.backupReplica!.source}.`,
      })
    if (!options.from?.startsWith('/'))
      throw new CtlError('--from takes the absolute path of a backup directory on the node', {
        exitCode: ExitCode.cannotRun,
        hint: 'ctl runbook mariadb-backup prints it, e.g. /var/backups/ctl/mariadb/20261126T121500',
      })
    return {
      node,
      from: options.from.replace(/\/+$/, ''),
      members: cluster.members.map((m) => m.node),
      stamp: backupStamp(),
      facts: [],
      movedAside: {},
      restored: false,
      bootstrapped: false,
      reseeded: [],
    }
  },

  steps: [
    {
      id: 'check-backup',
      title: 'Check the backup and read the cluster',
      risk: 'read',
      description: 'Verifies every file of the backup against its sha256 manifest, reads its Galera position, and reads every member.',
      plan: (state) => ({
        summary: `Check ${state.node}:${state.from}`,
        commands: [verifyBackupCommand(state.from), isPreparedCommand(state.from), readSlaveInfoCommand(state.from), readGaleraInfoCommand(state.from)].map(
          (c) => ({
            node: state.node,
            command: renderCommand(c),
          }),
        ),
      }),
      async act(ctx) {
        const {node, from} = ctx.state
        const check = await ctx.run(node, verifyBackupCommand(from), {timeoutMs: 3600_000})
        if (check.code !== 0) {
          throw new CtlError(`The backup ${from} on ${node} does not match its manifest (or has none)`, {
            host: node,
            exitCode: ExitCode.cannotRun,
            code: 'mariadb.backup-corrupt',
            hint: `${lastLines(check, 3)}\nUse another backup; this one was not touched.`,
          })
        }
        ctx.state.checksum = /^([0-9a-f]{64})\s/m.exec(check.stdout)?.[1]
        if ((await ctx.run(node, isPreparedCommand(from), {timeoutMs: 30_000})).code !== 0) {
          throw new CtlError(`${from} on ${node} is not a prepared backup`, {
            host: node,
            exitCode: ExitCode.cannotRun,
            code: 'mariadb.backup-not-prepared',
            hint: `Run mariabackup --prepare --target-dir=${from} on ${node} first (ctl runbook mariadb-backup does it).`,
          })
        }
        // A backup of the backup replica (--slave-info) has no Galera position of its own: the restored
        // member bootstraps a new cluster history from it (a new uuid), the others join by state transfer.
        // Its xtrabackup_galera_info, when --prepare wrote one, is the stale wsrep position InnoDB kept
        // from the member the replica was seeded from: never a position to bootstrap at.
        ctx.state.replicaGtid = parseSlaveInfoGtid((await ctx.run(node, readSlaveInfoCommand(from), {timeoutMs: 30_000})).stdout)
        if (!ctx.state.replicaGtid) ctx.state.position = parseGaleraInfo((await ctx.run(node, readGaleraInfoCommand(from), {timeoutMs: 30_000})).stdout)
        if (!ctx.state.position && !ctx.state.replicaGtid)
          throw new CtlError(`${from} has no xtrabackup_galera_info (nor the xtrabackup_slave_info of a replica's backup)`, {
            host: node,
            exitCode: ExitCode.cannotRun,
            code: 'mariadb.backup-no-position',
            hint: 'Take backups with ctl runbook mariadb-backup (it uses --galera-info on a member, --slave-info on the backup replica).',
          })
        ctx.state.facts = await access(ctx).allFacts()
        const unreachable = ctx.state.facts.filter((f) => !f.reachable)
        if (unreachable.length > 0)
          throw new CtlError(`Cannot reach ${unreachable.map((f) => f.node).join(', ')}: a restore needs every member`, {
            exitCode: ExitCode.cannotRun,
            code: 'galera.unreachable',
            hint: 'Bring it back first: a member left out would rejoin with newer data.',
          })
        ctx.report([`Backup ${node}:${from}: manifest checksum ${ctx.state.checksum}, ${backupPosition(ctx.state)}`, ...factsTable(ctx.state.facts)])
      },
    },
    {
      id: 'stop-members',
      title: 'Stop every member',
      risk: 'data-risk',
      description: 'Stops every running member (control.stop; a member stuck outside a Primary component is killed).',
      confirmation: (state) =>
        `Return the WHOLE cluster (${state.members.join(', ')}) to the backup at ${backupPosition(state)}? Every write made after the backup leaves service; the current datadirs are kept as <datadir>.before-restore-${state.stamp}.`,
      plan: (state, loaded) => {
        const a = new GaleraCommands(loaded)
        return {
          summary: `Stop ${state.members.join(', ')}`,
          commands: state.members.map((node) => ({node, command: renderCommand(a.controlCommand(node, 'stop'))})),
        }
      },
      async act(ctx) {
        const a = access(ctx)
        // Joiners first, the member holding the most recent data last.
        for (const node of [...others(ctx.state), ctx.state.node]) await a.stopSafely(node)
      },
    },
    {
      id: 'restore-datadir',
      title: 'Move the datadir aside and copy the backup back',
      risk: 'data-risk',
      description:
        "First checks that mariadbd is stopped on every member (refuses naming the one that runs). On the restored member: mv datadir aside, new empty datadir (same owner and mode), mariabackup --copy-back, chown -R, grastate.dat = the backup's position with safe_to_bootstrap: 1.",
      confirmation: (state) =>
        `Take the datadir of ${state.node} out of service (moved to <datadir>.before-restore-${state.stamp}) and copy the backup ${state.from} (${backupPosition(state)}) into it?`,
      plan: (state, loaded) => {
        const a = new GaleraCommands(loaded)
        const m = a.member(state.node)
        const commands: PlannedCommand[] = [
          {node: state.node, command: renderCommand(moveDatadirAsideCommand(m.datadir, asidePath(m.datadir, state.stamp)))},
          {node: state.node, command: renderCommand(copyBackCommand(m, state.from))},
        ]
        if (state.position) commands.push({node: state.node, command: renderCommand(writeGrastateCommand(m.datadir, state.position, true))})
        return {summary: `Restore ${state.from} into ${m.datadir} on ${state.node}`, commands}
      },
      async act(ctx) {
        const a = access(ctx)
        const m = a.member(ctx.state.node)
        if (ctx.state.restored) return
        await requireStopped(a, ctx.state.members, `moving ${ctx.state.node}'s datadir or copying the backup back`)
        if (ctx.state.movedAside[ctx.state.node]) {
          // Interrupted during the copy: start again from an empty datadir (the partial copy is moved aside too).
          await ctx.run(ctx.state.node, moveDatadirAsideCommand(m.datadir, `${asidePath(m.datadir, ctx.state.stamp)}-partial-${backupStamp()}`), {
            check: true,
            timeoutMs: 600_000,
          })
        } else {
          await moveAside(ctx, a, ctx.state.node)
        }
        await ctx.run(ctx.state.node, copyBackCommand(m, ctx.state.from), {check: true, timeoutMs: 6 * 3600_000})
        if (ctx.state.position) await ctx.run(ctx.state.node, writeGrastateCommand(m.datadir, ctx.state.position, true), {check: true, timeoutMs: 30_000})
        ctx.state.restored = true
      },
    },
    {
      id: 'bootstrap',
      title: 'Bootstrap the cluster from the restored member',
      risk: 'change',
      description: "Starts the restored member with --wsrep-new-cluster at the backup's position and waits for Primary/Synced.",
      plan: (state, loaded) => {
        const a = new GaleraCommands(loaded)
        return {
          summary: `Bootstrap ${state.node}`,
          commands: [{node: state.node, command: renderCommand(a.controlCommand(state.node, 'start', startArgs(a, state.node, true, state.position)))}],
        }
      },
      async act(ctx) {
        const a = access(ctx)
        const node = ctx.state.node
        // A member still on its old data would form a cluster of its own next to the restored one.
        await requireStopped(
          a,
          others(ctx.state).filter((n) => !ctx.state.movedAside[n]),
          `bootstrapping ${node} from the backup`,
        )
        if (!(await a.isRunning(node))) await a.start(node, startArgs(a, node, true, ctx.state.position))
        const status = await a.waitForSynced(node)
        if (ctx.state.position && status.clusterUuid !== ctx.state.position.uuid) {
          throw new CtlError(`${node} came up with cluster uuid ${status.clusterUuid}, not the backup's ${ctx.state.position.uuid}`, {
            host: node,
            code: 'galera.uuid-changed',
            hint: 'Check that the start position reached mariadbd (its error log).',
          })
        }
        ctx.state.bootstrapped = true
      },
    },
    {
      id: 'reseed-members',
      title: 'Re-seed the other members from the restored one',
      risk: 'data-risk',
      description:
        'For each other member, one at a time: check mariadbd is stopped there (refuses when it runs on its old data), move its datadir aside (kept), start it on an empty datadir so it joins by full state transfer, wait for Synced.',
      confirmation: (state) =>
        `Take the datadirs of ${others(state).join(', ')} out of service (moved to <datadir>.before-restore-${state.stamp}) so they join the restored cluster by full state transfer?`,
      plan: (state, loaded) => {
        const a = new GaleraCommands(loaded)
        return {
          summary: `Re-seed ${others(state).join(', ')}`,
          commands: others(state).flatMap((node) => [
            {node, command: renderCommand(moveDatadirAsideCommand(a.member(node).datadir, asidePath(a.member(node).datadir, state.stamp)))},
            {node, command: renderCommand(a.controlCommand(node, 'start'))},
          ]),
        }
      },
      async act(ctx) {
        const a = access(ctx)
        let size = 1
        for (const node of others(ctx.state)) {
          size++
          if (!ctx.state.reseeded.includes(node)) {
            // Running after its datadir was moved aside: our joiner from an interrupted run, waited for.
            if (!ctx.state.movedAside[node]) await requireStopped(a, [node], `moving ${node}'s datadir aside`)
            if (!(await a.isRunning(node))) {
              await moveAside(ctx, a, node)
              await a.start(node)
            }
          }
          await a.waitForSynced(node, {size})
          if (!ctx.state.reseeded.includes(node)) ctx.state.reseeded.push(node)
          ctx.progress(`${node}: Synced, cluster size ${size}`)
        }
      },
    },
    {
      id: 'verify',
      title: "Verify: Primary, full size, all Synced, the backup's uuid, a write read elsewhere",
      risk: 'change',
      description: "As galera-recover's verification, with the backup's cluster uuid expected.",
      plan: (state) => ({summary: `Check ${state.members.join(', ')} and write/read a probe row`, commands: []}),
      async act(ctx) {
        const expected = ctx.state.position?.uuid
        const v = await verifyGalera(access(ctx), ctx.state.members, expected)
        ctx.state.verification = v
        ctx.report(verificationReport(v))
        ctx.report(
          Object.entries(ctx.state.movedAside).map(
            ([node, path]) => `${node}: previous datadir kept at ${path} (remove it by hand once the restore is confirmed)`,
          ),
        )
        // The replica still holds what the cluster had before the restore, and would keep applying on top of it.
        const replica = galeraCluster(ctx.loaded).backupReplica
        if (replica)
          ctx.report([
            `The backup replica on ${replica.node} still holds the data from before the restore: seed it again from a backup of ${replica.source} (stop it, replace its datadir with a prepared mariabackup of ${replica.source}, CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos) before backups come from it.`,
          ])
        requireVerified(v, expected)
      },
    },
  ],

  summarize: (state) => ({
    node: state.node,
    from: state.from,
    checksum: state.checksum,
    position: state.position,
    replicaGtid: state.replicaGtid,
    movedAside: state.movedAside,
    reseeded: state.reseeded,
    verification: state.verification,
  }),
}
