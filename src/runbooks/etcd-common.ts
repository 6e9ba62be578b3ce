import {setTimeout as sleep} from 'node:timers/promises'
import {clientUrl, etcdctl, peerUrl} from '../etcd/commands.js'
import {parseInitialCluster, parseMemberList, type EtcdListedMember} from '../etcd/members.js'
import type {EtcdMemberHealth} from '../etcd/replace.js'
import {findNode, type LoadedInventory} from '../inventory/load.js'
import type {EtcdCluster} from '../inventory/schema/databases.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {quote} from '../lib/shell.js'
import {startMemberCommand} from './process-control.js'
import {lastLines} from '../lib/output.js'
import type {StepContext} from './types.js'

/** What the etcd runbooks share: the cluster from the inventory, each member's health, the member list, key counts. */

type Ctx = Pick<StepContext<unknown>, 'loaded' | 'run'>
export type EtcdMember = EtcdCluster['members'][number]

export function etcdCluster(loaded: Pick<LoadedInventory, 'inventory'>): EtcdCluster {
  const cluster = loaded.inventory.databases.etcd
  if (!cluster) throw new CtlError('databases.etcd is not in the inventory', {exitCode: ExitCode.cannotRun, code: 'etcd.not-configured'})
  return cluster
}

export const memberNamed = (loaded: Pick<LoadedInventory, 'inventory'>, name: string): EtcdMember => etcdCluster(loaded).members.find((m) => m.name === name)!
export const urlOf = (loaded: LoadedInventory, m: EtcdMember) => clientUrl(m, findNode(loaded, m.node))
export const peerUrlOf = (loaded: LoadedInventory, m: EtcdMember) => peerUrl(m, findNode(loaded, m.node))

/** Every member's own `endpoint health`, asked on its node, all at once; short timeouts: a dead member's answer is the wait. */
export async function readEtcdHealth(ctx: Ctx): Promise<EtcdMemberHealth[]> {
  return Promise.all(
    etcdCluster(ctx.loaded).members.map(async (m) => {
      const base = {name: m.name, node: m.node, peerUrl: peerUrlOf(ctx.loaded, m)}
      try {
        const r = await ctx.run(m.node, etcdctl([urlOf(ctx.loaded, m)], ['endpoint', 'health'], '2s', '1s'), {timeoutMs: 20_000})
        const text = `${r.stdout}\n${r.stderr}`
        return {...base, healthy: r.code === 0 && /is healthy/.test(text), detail: lastLines({stdout: text, stderr: ''}, 1, ' ').slice(0, 200)}
      } catch (error) {
        return {...base, healthy: false, detail: error instanceof Error ? error.message : String(error)}
      }
    }),
  )
}

/** The member list, from the first healthy member (its node runs etcdctl against the healthy ones). */
export async function readMemberList(ctx: Ctx, health: readonly EtcdMemberHealth[]): Promise<EtcdListedMember[] | undefined> {
  const healthy = health.filter((h) => h.healthy).map((h) => memberNamed(ctx.loaded, h.name))
  if (healthy.length === 0) return undefined
  const r = await ctx.run(
    healthy[0]!.node,
    etcdctl(
      healthy.map((m) => urlOf(ctx.loaded, m)),
      ['member', 'list'],
    ),
    {timeoutMs: 30_000},
  )
  return r.code === 0 ? parseMemberList(r.stdout) : undefined
}

/** How many keys a member holds, read from its own state (serializable); `count` is the whole range even with --limit=1. */
export async function keyCount(ctx: Ctx, m: EtcdMember): Promise<number | undefined> {
  const r = await ctx.run(
    m.node,
    etcdctl([urlOf(ctx.loaded, m)], ['get', '', '--prefix', '--keys-only', '--limit=1', '--consistency=s', '-w', 'json'], '10s'),
    {
      timeoutMs: 30_000,
    },
  )
  const count = /"count":(\d+)/.exec(r.stdout)?.[1]
  return r.code === 0 ? Number(count ?? 0) : undefined
}

/** The new member's start: `commands` take the cluster as it is now; systemd and docker cannot be told. */
export function startWithCluster(ctx: Pick<Ctx, 'loaded'>, m: EtcdMember, initialCluster: string): string[] {
  if (m.control?.kind !== 'commands')
    throw new CtlError(
      `etcd member ${m.name} has ${m.control ? `control.kind ${m.control.kind}` : 'no control'}: ctl cannot start it with the cluster's current state`,
      {
        exitCode: ExitCode.cannotRun,
        code: 'etcd.no-control',
        hint: 'Describe it with control.kind: commands whose start takes --initial-cluster-state= and --initial-cluster= (see inventories/lab.yml).',
      },
    )
  return [...startMemberCommand(m.control, findNode(ctx.loaded, m.node)), '--initial-cluster-state=existing', `--initial-cluster=${initialCluster}`]
}

/** Moves a member's data directory aside (kept, never deleted): `<dataDir>.ctl-<why>-<stamp>`; prints where. */
export function moveAsideScript(dataDir: string, why: string, stamp: string): {script: string} {
  const target = `${dataDir}.ctl-${why}-${stamp}`
  return {script: `if [ -e ${quote(dataDir)} ]; then mv ${quote(dataDir)} ${quote(target)} && echo ${quote(target)}; fi`}
}

/** `etcdctl member add` through `through` (healthy members); returns the initial cluster it prints for the new member. */
export async function addMember(ctx: Ctx & Pick<StepContext<unknown>, 'progress'>, through: readonly EtcdMember[], m: EtcdMember): Promise<string> {
  // etcd refuses a reconfiguration until every voting member has been connected for a few seconds
  // (strict reconfig check: "unhealthy cluster"), e.g. right after the previous member joined.
  const deadline = Date.now() + 30_000
  for (;;) {
    const r = await addMemberOnce(ctx, through, m)
    if (r.initialCluster) return r.initialCluster
    // Added by an earlier, interrupted run: the cluster as it is listed, the new member by its peer URL.
    if (/already exists/i.test(r.output)) {
      const listed = await ctx.run(
        through[0]!.node,
        etcdctl(
          through.map((h) => urlOf(ctx.loaded, h)),
          ['member', 'list'],
        ),
        {timeoutMs: 30_000},
      )
      const members = parseMemberList(listed.stdout)
      if (members.some((l) => !l.started && l.peerUrls.includes(peerUrlOf(ctx.loaded, m))))
        return members.map((l) => `${l.name || m.name}=${l.peerUrls[0]}`).join(',')
    }
    if (!/unhealthy cluster/.test(r.output) || Date.now() > deadline)
      throw new CtlError(`etcdctl member add ${m.name} failed: ${r.output}`, {host: through[0]!.node, code: 'etcd.add-failed'})
    ctx.progress(`etcd not ready for another member yet (${m.name}); trying again`)
    await sleep(1000)
  }
}

async function addMemberOnce(ctx: Ctx, through: readonly EtcdMember[], m: EtcdMember): Promise<{initialCluster?: string; output: string}> {
  const r = await ctx.run(
    through[0]!.node,
    etcdctl(
      through.map((h) => urlOf(ctx.loaded, h)),
      ['member', 'add', m.name, `--peer-urls=${peerUrlOf(ctx.loaded, m)}`],
    ),
    {
      timeoutMs: 30_000,
    },
  )
  const initialCluster = r.code === 0 ? parseInitialCluster(r.stdout) : undefined
  return initialCluster ? {initialCluster, output: ''} : {output: lastLines(r, 2, ' ')}
}

/** Waits until each of `members` answers healthy on its own endpoint. */
export async function waitHealthy(ctx: Ctx & Pick<StepContext<unknown>, 'progress'>, members: readonly EtcdMember[], timeoutMs: number): Promise<void> {
  const started = Date.now()
  for (;;) {
    const health = (await readEtcdHealth(ctx)).filter((h) => members.some((m) => m.name === h.name))
    const sick = health.filter((h) => !h.healthy)
    if (sick.length === 0) return
    if (Date.now() - started > timeoutMs)
      throw new CtlError(`etcd ${sick.map((h) => `${h.name} (${h.detail})`).join(', ')} not healthy within ${timeoutMs / 1000} s`, {
        host: memberNamed(ctx.loaded, sick[0]!.name).node,
        code: 'etcd.not-healthy',
        hint: "Look at the member's etcd log.",
      })
    ctx.progress(`waiting for ${sick.map((h) => h.name).join(', ')}`)
    await sleep(500)
  }
}
