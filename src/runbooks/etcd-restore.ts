import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {renderCommand} from '../lib/shell.js'
import {etcdctl} from '../etcd/commands.js'
import {
  inspectSnapshotCommand,
  listSnapshotsCommand,
  parseSnapshotInspection,
  restoreSnapshotCommand,
  snapshotsIn,
  type SnapshotStatus,
} from '../etcd/snapshot.js'
import {findNode} from '../inventory/load.js'
import {
  addMember,
  etcdCluster,
  keyCount,
  memberNamed,
  moveAsideScript,
  peerUrlOf,
  startWithCluster,
  urlOf,
  waitHealthy,
  type EtcdMember,
} from './etcd-common.js'
import {backupNodeOf} from './etcd-snapshot.js'
import {patroniAccess} from './patroni-common.js'
import {startMemberCommand, stopMemberCommand} from './process-control.js'
import type {PlannedCommand, Runbook, StepContext} from './types.js'

export interface EtcdRestoreOptions {
  /** The snapshot's file name in backupDir (default: the newest). */
  snapshot?: string
}

export interface EtcdRestoreState {
  requested?: string
  backupNode?: string
  snapshot?: string
  file?: string
  status?: SnapshotStatus
  /** The member restored first (the one on the backup node): the others are added back to it. */
  first?: string
  /** Patroni members in the order they are stopped (replicas, then the leader), when Patroni uses this etcd. */
  patroniStop?: string[]
  patroniLeader?: string
  stamp?: string
  movedAside?: Record<string, string>
  added?: string[]
  keys?: Record<string, number | null>
}

type Ctx = StepContext<EtcdRestoreState>

const HEALTHY_TIMEOUT_MS = 60_000
const PATRONI_TIMEOUT_MS = 120_000

const members = (loaded: Ctx['loaded']) => etcdCluster(loaded).members
const firstMember = (loaded: Ctx['loaded'], state: EtcdRestoreState) => memberNamed(loaded, state.first!)
const others = (loaded: Ctx['loaded'], state: EtcdRestoreState) => members(loaded).filter((m) => m.name !== state.first)
const patroniMember = (loaded: Ctx['loaded'], name: string) => loaded.inventory.databases.patroni!.members.find((m) => m.name === name)!

function patroniControl(loaded: Ctx['loaded'], name: string) {
  const m = patroniMember(loaded, name)
  if (!m.control)
    throw new CtlError(`Patroni member ${name} has no control: ctl cannot stop it while etcd is restored`, {
      exitCode: ExitCode.cannotRun,
      code: 'etcd.patroni-no-control',
      hint: 'Describe databases.patroni.members[].control, or stop Patroni by hand and remove databases.patroni from a copy of the inventory for this run.',
    })
  return {control: m.control, node: findNode(loaded, m.node)}
}

const restoreFor = (loaded: Ctx['loaded'], state: EtcdRestoreState, m: EtcdMember) =>
  restoreSnapshotCommand(state.file!, {name: m.name, peerUrl: peerUrlOf(loaded, m), dataDir: m.dataDir}, etcdCluster(loaded).osUser)

export const etcdRestore: Runbook<EtcdRestoreState, EtcdRestoreOptions> = {
  name: 'etcd-restore',
  summary: 'Restore etcd from a snapshot (DATA RISK: every key written after it is lost), Patroni stopped around it and started again on the same leader.',
  description: [
    'Checks the snapshot (its sha256 against the one recorded, etcdctl snapshot status). Stops Patroni if it uses this etcd',
    '(replicas first, the leader last: no failover on the way down; PostgreSQL is down meanwhile), then every etcd member.',
    'Moves every data directory aside (kept), restores the snapshot on the member of the backup node as a one-member',
    "cluster, starts it, deletes Patroni's leader key from the restored data (it may name a former leader), adds the",
    'other members back one by one (member add, start with the current cluster), then starts Patroni, the old leader',
    'first, and waits until it takes the lock and the others stream. Verifies every member holds the same keys.',
  ].join('\n'),
  needs: 'databases.etcd (members with dataDir and control of kind commands, backupDir, backupNode, osUser); Patroni members with control',
  setup({loaded, options}) {
    etcdCluster(loaded)
    return options.snapshot ? {requested: options.snapshot} : {}
  },
  steps: [
    {
      id: 'facts',
      title: 'Check the snapshot and read Patroni',
      risk: 'read',
      description: 'The snapshot exists on the backup node, its sha256 matches the recorded one, snapshot status reads it; Patroni’s leader.',
      plan: (state, loaded) => ({
        summary: `Check ${state.requested ?? 'the newest snapshot'} in ${etcdCluster(loaded).backupDir} on ${backupNodeOf(loaded)}`,
        commands: [{node: backupNodeOf(loaded), command: renderCommand(listSnapshotsCommand(etcdCluster(loaded).backupDir))}],
      }),
      async gather(ctx) {
        const cluster = etcdCluster(ctx.loaded)
        const node = backupNodeOf(ctx.loaded)
        const first = cluster.members.find((m) => m.node === node)
        if (!first)
          throw new CtlError(`The backup node ${node} runs no etcd member: the snapshot must be restored on a member's node`, {
            exitCode: ExitCode.cannotRun,
            code: 'etcd.backup-node-not-member',
            hint: 'Set databases.etcd.backupNode to a member node (or copy the snapshot there and point backupNode at it).',
          })
        for (const m of cluster.members) startWithCluster(ctx, m, '')
        const listing = await ctx.run(node, listSnapshotsCommand(cluster.backupDir), {timeoutMs: 30_000})
        const snapshots = snapshotsIn(listing.stdout)
        const snapshot = ctx.state.requested ?? snapshots.at(-1)
        if (!snapshot || !snapshots.includes(snapshot))
          throw new CtlError(
            ctx.state.requested ? `No snapshot ${ctx.state.requested} in ${cluster.backupDir} on ${node}` : `No snapshot in ${cluster.backupDir} on ${node}`,
            {
              exitCode: ExitCode.cannotRun,
              code: 'etcd.no-snapshot',
              hint: `Snapshots there: ${snapshots.join(', ') || 'none'}. Take one with: ctl runbook etcd-snapshot ${ctx.loaded.env}`,
            },
          )
        const r = await ctx.run(node, inspectSnapshotCommand(cluster.backupDir, snapshot), {timeoutMs: 120_000})
        const seen = parseSnapshotInspection(r.stdout)
        if (r.code !== 0 || !seen.status || !seen.actual || seen.actual !== seen.recorded)
          throw new CtlError(
            `Snapshot ${snapshot} is damaged or unreadable: ${seen.recorded && seen.actual && seen.recorded !== seen.actual ? `sha256 ${seen.actual}, recorded ${seen.recorded}` : lastLines(r, 2, ' ')}`,
            {exitCode: ExitCode.cannotRun, code: 'etcd.snapshot-damaged', host: node, hint: 'Choose another snapshot with --snapshot.'},
          )
        Object.assign(ctx.state, {backupNode: node, snapshot, file: `${cluster.backupDir}/${snapshot}`, status: seen.status, first: first.name})
        if (ctx.loaded.inventory.databases.patroni) {
          const facts = await patroniAccess(ctx).facts()
          ctx.state.patroniLeader = facts.leader
          const names = facts.members.map((m) => m.name)
          ctx.state.patroniStop = [...names.filter((n) => n !== facts.leader), ...names.filter((n) => n === facts.leader)]
          for (const name of ctx.state.patroniStop) patroniControl(ctx.loaded, name)
        }
        ctx.state.stamp = new Date()
          .toISOString()
          .replace(/[-:]/g, '')
          .replace(/\.\d+Z$/, 'Z')
        ctx.report([
          `Snapshot ${snapshot}: revision ${seen.status.revision}, ${seen.status.totalKey} keys, sha256 matches. Restored on ${first.name} (${node}), then ${others(
            ctx.loaded,
            ctx.state,
          )
            .map((m) => m.name)
            .join(', ')} added back.`,
          ...(ctx.state.patroniStop
            ? [`Patroni (leader ${ctx.state.patroniLeader ?? 'none'}) is stopped meanwhile: PostgreSQL is down until the last step.`]
            : []),
        ])
      },
    },
    {
      id: 'stop',
      title: 'Stop Patroni and every etcd member',
      risk: 'data-risk',
      description: 'Patroni members (replicas first, the leader last), then each etcd member (control.stop, kill if it ignores it).',
      confirmation: (state) =>
        `Restore etcd to snapshot ${state.snapshot} (revision ${state.status?.revision})? Every key written after it is lost${
          state.patroniStop ? `, and PostgreSQL (Patroni ${state.patroniStop.join(', ')}) is down until etcd is back` : ''
        }. Current data directories are moved aside, not deleted.`,
      plan(state, loaded) {
        if (!state.first) return {summary: 'After the facts', commands: []}
        const commands: PlannedCommand[] = [
          ...(state.patroniStop ?? []).map((name) => {
            const {control, node} = patroniControl(loaded, name)
            return {node: node.name, command: renderCommand(stopMemberCommand(control, node)), note: `Patroni ${name}`}
          }),
          ...members(loaded).map((m) => ({
            node: m.node,
            command: renderCommand(stopMemberCommand(m.control!, findNode(loaded, m.node))),
            note: `etcd ${m.name}`,
          })),
        ]
        return {summary: `Stop ${state.patroniStop ? 'Patroni, then ' : ''}every etcd member`, commands}
      },
      async act(ctx) {
        for (const name of ctx.state.patroniStop ?? []) {
          const {control, node} = patroniControl(ctx.loaded, name)
          const r = await ctx.run(node.name, stopMemberCommand(control, node), {timeoutMs: 120_000})
          if (r.code !== 0) throw new CtlError(`Stopping Patroni ${name} failed: ${lastLines(r, 2, ' ')}`, {host: node.name, code: 'etcd.patroni-stop-failed'})
          ctx.progress(`Patroni ${name} stopped`)
        }
        for (const m of members(ctx.loaded)) {
          const node = findNode(ctx.loaded, m.node)
          const r = await ctx.run(m.node, stopMemberCommand(m.control!, node), {timeoutMs: 60_000})
          if (r.code !== 0 && m.control?.kind === 'commands' && m.control.kill) await ctx.run(m.node, m.control.kill, {timeoutMs: 30_000})
          ctx.progress(`etcd ${m.name} stopped`)
        }
      },
    },
    {
      id: 'restore',
      title: 'Move the data directories aside and restore the snapshot on the first member',
      risk: 'data-risk',
      description: 'mv <dataDir> <dataDir>.ctl-before-restore-<stamp> on every member; etcdctl snapshot restore as a one-member cluster on the first.',
      confirmation: (state) => `Move every etcd data directory aside and restore ${state.snapshot} on ${state.first}?`,
      plan(state, loaded) {
        if (!state.first) return {summary: 'After the facts', commands: []}
        return {
          summary: `Restore ${state.snapshot} on ${state.first}`,
          commands: [
            ...members(loaded).map((m) => ({node: m.node, command: renderCommand(moveAsideScript(m.dataDir, 'before-restore', state.stamp!)), note: 'kept'})),
            {node: firstMember(loaded, state).node, command: renderCommand(restoreFor(loaded, state, firstMember(loaded, state)))},
          ],
        }
      },
      async act(ctx) {
        ctx.state.movedAside ??= {}
        for (const m of members(ctx.loaded)) {
          const r = await ctx.run(m.node, moveAsideScript(m.dataDir, 'before-restore', ctx.state.stamp!), {timeoutMs: 60_000})
          if (r.code !== 0)
            throw new CtlError(`Moving ${m.dataDir} aside failed on ${m.node}: ${lastLines(r, 2, ' ')}`, {host: m.node, code: 'etcd.move-failed'})
          if (r.stdout.trim()) ctx.state.movedAside[m.name] = r.stdout.trim()
        }
        const first = firstMember(ctx.loaded, ctx.state)
        const r = await ctx.run(first.node, restoreFor(ctx.loaded, ctx.state, first), {timeoutMs: 300_000})
        if (r.code !== 0)
          throw new CtlError(`etcdctl snapshot restore failed on ${first.node}: ${lastLines(r, 3, ' ')}`, {host: first.node, code: 'etcd.restore-failed'})
        ctx.report([
          `Restored ${ctx.state.snapshot} into ${first.dataDir} on ${first.node}; the previous data directories are kept: ${Object.values(ctx.state.movedAside).join(', ')}.`,
        ])
      },
    },
    {
      id: 'rebuild',
      title: 'Start the restored member, then add the others back one by one',
      risk: 'change',
      description: "Start the first member; delete Patroni's leader key; for each other: member add, start with the current cluster, wait until healthy.",
      plan(state, loaded) {
        if (!state.first) return {summary: 'After the facts', commands: []}
        const first = firstMember(loaded, state)
        const scope = loaded.inventory.databases.patroni?.scope
        return {
          summary: `Start ${first.name}, then add ${others(loaded, state)
            .map((m) => m.name)
            .join(', ')}`,
          commands: [
            {node: first.node, command: renderCommand(startMemberCommand(first.control!, findNode(loaded, first.node)))},
            ...(scope
              ? [
                  {
                    node: first.node,
                    command: renderCommand(etcdctl([urlOf(loaded, first)], ['del', `/service/${scope}/leader`])),
                    note: 'it may name a former leader',
                  },
                ]
              : []),
            ...others(loaded, state).flatMap((m) => [
              {node: first.node, command: renderCommand(etcdctl([urlOf(loaded, first)], ['member', 'add', m.name, `--peer-urls=${peerUrlOf(loaded, m)}`]))},
              {node: m.node, command: renderCommand(startWithCluster({loaded}, m, '<member add output>'))},
            ]),
          ],
        }
      },
      async act(ctx) {
        const first = firstMember(ctx.loaded, ctx.state)
        const started = await ctx.run(first.node, startMemberCommand(first.control!, findNode(ctx.loaded, first.node)), {timeoutMs: 60_000})
        if (started.code !== 0)
          throw new CtlError(`Starting ${first.name} failed: ${lastLines(started, 3, ' ')}`, {host: first.node, code: 'etcd.start-failed'})
        await waitHealthy(ctx, [first], HEALTHY_TIMEOUT_MS)
        const scope = ctx.loaded.inventory.databases.patroni?.scope
        if (scope) {
          const del = await ctx.run(first.node, etcdctl([urlOf(ctx.loaded, first)], ['del', `/service/${scope}/leader`]), {timeoutMs: 30_000})
          if (del.code !== 0) throw new CtlError(`Deleting Patroni's leader key failed: ${lastLines(del, 2, ' ')}`, {host: first.node, code: 'etcd.leader-key'})
        }
        ctx.state.added ??= []
        const joined: EtcdMember[] = [first, ...others(ctx.loaded, ctx.state).filter((m) => ctx.state.added!.includes(m.name))]
        for (const m of others(ctx.loaded, ctx.state).filter((x) => !ctx.state.added!.includes(x.name))) {
          const initialCluster = await addMember(ctx, joined, m)
          const r = await ctx.run(m.node, startWithCluster(ctx, m, initialCluster), {timeoutMs: 60_000})
          if (r.code !== 0) throw new CtlError(`Starting ${m.name} failed: ${lastLines(r, 3, ' ')}`, {host: m.node, code: 'etcd.start-failed'})
          await waitHealthy(ctx, [...joined, m], HEALTHY_TIMEOUT_MS)
          joined.push(m)
          ctx.state.added.push(m.name)
          ctx.progress(`${m.name} joined`)
        }
      },
    },
    {
      id: 'patroni',
      title: 'Start Patroni, the old leader first',
      risk: 'change',
      description: 'control.start of the old leader, wait until it takes the leader key and accepts writes, then the others, wait until they stream.',
      plan(state, loaded) {
        if (!state.patroniStop) return {summary: 'No Patroni on this etcd', commands: [], skip: 'no databases.patroni'}
        const order = [...state.patroniStop].reverse()
        return {
          summary: `Start Patroni ${order.join(', ')}`,
          commands: order.map((name) => {
            const {control, node} = patroniControl(loaded, name)
            return {node: node.name, command: renderCommand(startMemberCommand(control, node))}
          }),
        }
      },
      async act(ctx) {
        const order = [...ctx.state.patroniStop!].reverse()
        const access = patroniAccess(ctx)
        for (const [i, name] of order.entries()) {
          const {control, node} = patroniControl(ctx.loaded, name)
          const r = await ctx.run(node.name, startMemberCommand(control, node), {timeoutMs: 60_000})
          if (r.code !== 0) throw new CtlError(`Starting Patroni ${name} failed: ${lastLines(r, 2, ' ')}`, {host: node.name, code: 'etcd.patroni-start-failed'})
          if (i === 0 && ctx.state.patroniLeader === name) await access.waitForWritableLeader(name, PATRONI_TIMEOUT_MS, (t) => ctx.progress(t))
        }
        // The leader now: the old one, or (Patroni was down before the run) whichever the leader race chose.
        const started = Date.now()
        let leader = (await access.facts()).leader
        while (!leader && Date.now() - started < PATRONI_TIMEOUT_MS) {
          ctx.progress('waiting for a Patroni leader')
          await new Promise((resolve) => setTimeout(resolve, 1000))
          leader = (await access.facts()).leader
        }
        const facts = await access.waitForStreaming(
          order.filter((n) => n !== leader),
          PATRONI_TIMEOUT_MS,
          (t) => ctx.progress(t),
        )
        ctx.report([`Patroni: leader ${facts.leader}, ${facts.members.filter((m) => m.streaming).length} streaming replicas.`])
      },
    },
    {
      id: 'verify',
      title: 'Every member healthy with the same keys',
      risk: 'read',
      description: 'Key counts read from each member’s own state are equal.',
      plan: () => ({summary: 'Count the keys on each member', commands: []}),
      async verify(ctx) {
        if (ctx.dryRun) return
        await waitHealthy(ctx, members(ctx.loaded), HEALTHY_TIMEOUT_MS)
        for (let i = 0; ; i++) {
          const counts = await Promise.all(members(ctx.loaded).map(async (m) => [m.name, (await keyCount(ctx, m)) ?? null] as const))
          if (new Set(counts.map(([, c]) => c)).size === 1 && counts[0]![1] !== null) {
            ctx.state.keys = Object.fromEntries(counts)
            ctx.report([`Keys per member: ${counts.map(([n, c]) => `${n} ${c}`).join(', ')} (the snapshot held ${ctx.state.status?.totalKey}).`])
            return
          }
          if (i >= 30) throw new CtlError(`Key counts differ: ${counts.map(([n, c]) => `${n} ${c ?? '?'}`).join(', ')}`, {code: 'etcd.not-settled'})
          await new Promise((resolve) => setTimeout(resolve, 1000))
        }
      },
    },
  ],
  summarize: (state) => ({
    snapshot: state.snapshot,
    revision: state.status?.revision,
    restoredOn: state.first,
    movedAside: state.movedAside,
    patroniLeader: state.patroniLeader,
    keys: state.keys,
  }),
}
