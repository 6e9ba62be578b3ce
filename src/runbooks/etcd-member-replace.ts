import {setTimeout as sleep} from 'node:timers/promises'
import {etcdctl} from '../etcd/commands.js'
import {chooseMemberToReplace, type EtcdMemberHealth} from '../etcd/replace.js'
import {findNode} from '../inventory/load.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {renderCommand} from '../lib/shell.js'
import {
  addMember,
  etcdCluster,
  keyCount,
  memberNamed,
  moveAsideScript,
  peerUrlOf,
  readEtcdHealth,
  readMemberList,
  startWithCluster,
  urlOf,
} from './etcd-common.js'
import {stopMemberCommand} from './process-control.js'
import {table} from './render.js'
import type {Runbook, StepContext} from './types.js'

export interface EtcdMemberReplaceOptions {
  /** The member (its name) to replace; default: the one unhealthy member. */
  member?: string
}

export interface EtcdMemberReplaceState {
  requested?: string
  target?: string
  /** The hex id to remove (absent: not listed as started, e.g. already removed). */
  removeId?: string
  add?: boolean
  /** The healthy members the membership changes go through. */
  healthy?: string[]
  /** Where the lost member's data directory went. */
  movedTo?: string
  /** ETCD_INITIAL_CLUSTER from `member add`: how the new member starts. */
  initialCluster?: string
  keysBefore?: number
  keys?: Record<string, number | null>
}

type Ctx = StepContext<EtcdMemberReplaceState>

const SETTLE_TIMEOUT_MS = 90_000

function healthReport(health: readonly EtcdMemberHealth[]): string[] {
  return table(
    ['member', 'node', 'health'],
    health.map((h) => [h.name, h.node, h.healthy ? 'healthy' : `UNHEALTHY: ${h.detail}`]),
  )
}

const via = (ctx: Pick<Ctx, 'loaded'>, state: EtcdMemberReplaceState) => (state.healthy ?? []).map((n) => memberNamed(ctx.loaded, n))

export const etcdMemberReplace: Runbook<EtcdMemberReplaceState, EtcdMemberReplaceOptions> = {
  name: 'etcd-member-replace',
  summary: 'Replace an etcd member that lost its data: remove it, add it back empty, start it, and check every member holds the same keys.',
  description: [
    "Reads every member's health and the member list. Chooses the member to replace (--member, or the one unhealthy",
    'member; a healthy one is refused, and so is any change without a majority of healthy members: then etcd-restore).',
    'Stops it, removes it from the cluster (etcdctl member remove, through the healthy members), moves its data',
    'directory aside (kept), adds it back (member add, same name and peer URL), starts it with',
    '--initial-cluster-state=existing and the cluster as member add printed it, and waits until every member is healthy',
    'and holds as many keys as the others (read from its own state). The data lives on in the healthy majority.',
  ].join('\n'),
  needs: 'databases.etcd (members with dataDir and control of kind commands); etcdctl on the members',

  setup({loaded, options}) {
    etcdCluster(loaded)
    return options.member ? {requested: options.member} : {}
  },

  steps: [
    {
      id: 'facts',
      title: 'Read every member and the member list; choose the member to replace',
      risk: 'read',
      description: 'etcdctl endpoint health on each member, member list through the healthy ones, then the decision.',
      plan: (state, loaded) => ({
        summary: `Read the ${etcdCluster(loaded).members.length} members${state.requested ? `; replace ${state.requested} if it is unhealthy` : ''}`,
        commands: etcdCluster(loaded).members.map((m) => ({
          node: m.node,
          command: renderCommand(etcdctl([urlOf(loaded, m)], ['endpoint', 'health'], '2s', '1s')),
        })),
      }),
      async gather(ctx) {
        const health = await readEtcdHealth(ctx)
        ctx.report(healthReport(health))
        const listed = await readMemberList(ctx, health)
        const choice = chooseMemberToReplace(health, listed, ctx.loaded.env, ctx.state.requested)
        if (!choice.ok) throw new CtlError(`Cannot replace: ${choice.reason}`, {exitCode: ExitCode.cannotRun, code: choice.code, hint: choice.hint})
        const target = memberNamed(ctx.loaded, choice.target)
        startWithCluster(ctx, target, '')
        Object.assign(ctx.state, {target: choice.target, add: choice.add, healthy: choice.healthy, ...(choice.remove ? {removeId: choice.remove} : {})})
        ctx.state.keysBefore = await keyCount(ctx, memberNamed(ctx.loaded, choice.healthy[0]!))
        ctx.report([
          `Decision: replace ${choice.target}${choice.remove ? ` (member ${choice.remove})` : ' (not listed as started: no removal)'}; ${choice.healthy.length} healthy members keep the data (${ctx.state.keysBefore ?? '?'} keys).`,
        ])
      },
    },
    {
      id: 'remove',
      title: 'Stop the member and remove it from the cluster',
      risk: 'change',
      description: 'control.stop on its node (kill if it ignores it), then etcdctl member remove through the healthy members.',
      plan(state, loaded) {
        if (!state.target) return {summary: 'After the decision', commands: []}
        const m = memberNamed(loaded, state.target)
        const node = findNode(loaded, m.node)
        return {
          summary: `Stop ${state.target}${state.removeId ? ` and remove member ${state.removeId}` : ''}`,
          commands: [
            ...(m.control ? [{node: m.node, command: renderCommand(stopMemberCommand(m.control, node))}] : []),
            ...(state.removeId
              ? [
                  {
                    node: via({loaded}, state)[0]!.node,
                    command: renderCommand(
                      etcdctl(
                        via({loaded}, state).map((h) => urlOf(loaded, h)),
                        ['member', 'remove', state.removeId],
                      ),
                    ),
                  },
                ]
              : []),
          ],
        }
      },
      async act(ctx) {
        const m = memberNamed(ctx.loaded, ctx.state.target!)
        await ctx.confirm(`Remove etcd member ${m.name} from the cluster and replace it with an empty one? Its data directory is moved aside, not deleted.`)
        const node = findNode(ctx.loaded, m.node)
        const stop = await ctx.run(m.node, stopMemberCommand(m.control!, node), {timeoutMs: 60_000})
        if (stop.code !== 0 && m.control?.kind === 'commands' && m.control.kill) await ctx.run(m.node, m.control.kill, {timeoutMs: 30_000})
        if (ctx.state.removeId) {
          const healthy = via(ctx, ctx.state)
          const r = await ctx.run(
            healthy[0]!.node,
            etcdctl(
              healthy.map((h) => urlOf(ctx.loaded, h)),
              ['member', 'remove', ctx.state.removeId],
            ),
            {timeoutMs: 30_000},
          )
          // A resumed run: it is gone already.
          if (r.code !== 0 && !/member not found/i.test(`${r.stdout}${r.stderr}`))
            throw new CtlError(`etcdctl member remove failed: ${lastLines(r, 2, ' ')}`, {host: healthy[0]!.node, code: 'etcd.remove-failed'})
          ctx.progress(`member ${ctx.state.removeId} (${m.name}) removed`)
        }
      },
    },
    {
      id: 'add',
      title: 'Move its data directory aside and add it back as a new member',
      risk: 'change',
      description: 'mv <dataDir> <dataDir>.ctl-replaced-<run>, then etcdctl member add <name> --peer-urls=<its peer URL>.',
      plan(state, loaded) {
        if (!state.target) return {summary: 'After the decision', commands: []}
        const m = memberNamed(loaded, state.target)
        const healthy = via({loaded}, state)
        return {
          summary: `Add ${m.name} back with peer URL ${peerUrlOf(loaded, m)}`,
          commands: [
            {node: m.node, command: renderCommand(moveAsideScript(m.dataDir, 'replaced', '<run>')), note: 'kept, not deleted'},
            ...(state.add !== false
              ? [
                  {
                    node: healthy[0]!.node,
                    command: renderCommand(
                      etcdctl(
                        healthy.map((h) => urlOf(loaded, h)),
                        ['member', 'add', m.name, `--peer-urls=${peerUrlOf(loaded, m)}`],
                      ),
                    ),
                  },
                ]
              : []),
          ],
        }
      },
      async act(ctx) {
        const m = memberNamed(ctx.loaded, ctx.state.target!)
        const moved = await ctx.run(m.node, moveAsideScript(m.dataDir, 'replaced', new Date().toISOString().replace(/[:.]/g, '-')), {timeoutMs: 60_000})
        if (moved.code !== 0)
          throw new CtlError(`Moving ${m.dataDir} aside failed on ${m.node}: ${lastLines(moved, 2, ' ')}`, {host: m.node, code: 'etcd.move-failed'})
        if (moved.stdout.trim()) ctx.state.movedTo = moved.stdout.trim()
        const healthy = via(ctx, ctx.state)
        if (ctx.state.add !== false) ctx.state.initialCluster = await addMember(ctx, healthy, m)
        if (!ctx.state.initialCluster) {
          // Added by an earlier run: the cluster as it is listed now (the new member by its peer URL).
          const listed = (await readMemberList(ctx, await readEtcdHealth(ctx))) ?? []
          ctx.state.initialCluster = listed.map((l) => `${l.name || m.name}=${l.peerUrls[0]}`).join(',')
        }
        ctx.report([
          `${m.name} added back; it starts with initial cluster ${ctx.state.initialCluster}${ctx.state.movedTo ? `; old data directory kept at ${ctx.state.movedTo}` : ''}.`,
        ])
      },
    },
    {
      id: 'start',
      title: 'Start the new member and wait until it is healthy',
      risk: 'change',
      description: "control.start with --initial-cluster-state=existing --initial-cluster=<member add's list>; it fetches the data from the leader.",
      plan(state, loaded) {
        if (!state.target) return {summary: 'After the decision', commands: []}
        const m = memberNamed(loaded, state.target)
        return {
          summary: `Start ${m.name} empty; it joins and receives a snapshot`,
          commands: [{node: m.node, command: renderCommand(startWithCluster({loaded}, m, state.initialCluster ?? '<member add output>'))}],
        }
      },
      async act(ctx) {
        const m = memberNamed(ctx.loaded, ctx.state.target!)
        const r = await ctx.run(m.node, startWithCluster(ctx, m, ctx.state.initialCluster!), {timeoutMs: 60_000})
        if (r.code !== 0)
          throw new CtlError(`Starting ${m.name} failed: ${lastLines(r, 3, ' ')}`, {
            host: m.node,
            code: 'etcd.start-failed',
            hint: "Look at the member's etcd log.",
          })
      },
    },
    {
      id: 'verify',
      title: 'Every member healthy, started, with the same keys',
      risk: 'read',
      description:
        'Waits until every member answers healthy, the member list shows all started, and each holds as many keys (serializable reads) as the others.',
      plan: (state) => ({summary: state.target ? `Wait until ${state.target} is healthy and holds the cluster's keys` : 'After the decision', commands: []}),
      async verify(ctx) {
        if (ctx.dryRun) return
        const started = Date.now()
        let last: string
        for (;;) {
          const health = await readEtcdHealth(ctx)
          const listed = health.every((h) => h.healthy) ? await readMemberList(ctx, health) : undefined
          if (listed && listed.length === health.length && listed.every((l) => l.started)) {
            const counts = await Promise.all(etcdCluster(ctx.loaded).members.map(async (m) => [m.name, (await keyCount(ctx, m)) ?? null] as const))
            const values = new Set(counts.map(([, c]) => c))
            if (values.size === 1 && !values.has(null)) {
              ctx.state.keys = Object.fromEntries(counts)
              ctx.report([...healthReport(health), `Keys per member: ${counts.map(([n, c]) => `${n} ${c}`).join(', ')}`])
              return
            }
            last = `key counts differ: ${counts.map(([n, c]) => `${n} ${c ?? '?'}`).join(', ')}`
          } else
            last =
              health
                .filter((h) => !h.healthy)
                .map((h) => `${h.name}: ${h.detail}`)
                .join('; ') || 'not every member is listed as started'
          if (Date.now() - started > SETTLE_TIMEOUT_MS)
            throw new CtlError(`The cluster did not settle: ${last}`, {
              code: 'etcd.not-settled',
              hint: `ctl check run ${ctx.loaded.env} etcd; the new member's log.`,
            })
          ctx.progress(last)
          await sleep(1000)
        }
      },
    },
  ],

  summarize: (state) => ({target: state.target, removed: state.removeId, movedTo: state.movedTo, keysBefore: state.keysBefore, keys: state.keys}),
}
