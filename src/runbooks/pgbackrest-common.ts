import {setTimeout as sleep} from 'node:timers/promises'
import {CtlError} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import type {PatroniAccess} from '../patroni/actions.js'
import {memberTarget, parseMemberStatus, type ClusterFacts} from '../patroni/facts.js'
import {MEMBER_LAYOUT_SQL, pgbackrestCommand, pgbackrestSettings, type MemberLayout, type PgbackrestSettings} from '../patroni/pgbackrest-config.js'
import {parsePgbackrestInfo, type PgbackrestInfo} from '../patroni/pgbackrest-info.js'
import type {LoadedInventory} from '../inventory/load.js'
import {renderCommand} from '../lib/shell.js'
import type {StepContext, StepPlan} from './types.js'

/** What the pgBackRest runbooks share: each member's layout, the repository's info, a member's restart. */

/** Data directory, socket and port of every member, asked of each server (all must answer). */
export async function memberLayouts(access: PatroniAccess, facts: ClusterFacts, step: string): Promise<MemberLayout[]> {
  return Promise.all(
    access.topology.members.map(async (m) => {
      if (!facts.members.find((f) => f.name === m.name)?.reachable)
        throw new CtlError(`${m.name} on ${m.node} does not answer: pgBackRest needs every member's settings`, {
          host: m.node,
          step,
          code: 'pgbackrest.member-down',
          hint: 'Start it (or repair the cluster: ctl runbook patroni-failover) and run again.',
        })
      const layout = await access.query<Omit<MemberLayout, 'member' | 'node' | 'address'>>(memberTarget(access.topology, m), MEMBER_LAYOUT_SQL, step)
      return {member: m.name, node: m.node, address: m.address, dataDir: layout.dataDir, socketDir: layout.socketDir, port: layout.port}
    }),
  )
}

/** `pgbackrest info` of the stanza on the repository node; undefined when the stanza does not exist yet. */
export async function readRepositoryInfo(ctx: Pick<StepContext<unknown>, 'run'>, s: PgbackrestSettings): Promise<PgbackrestInfo | undefined> {
  const r = await ctx.run(s.repoNode, pgbackrestCommand(s, s.repoNode, '--output=json', 'info'), {timeoutMs: 120_000})
  if (r.code !== 0)
    throw new CtlError(`pgbackrest info failed on ${s.repoNode} (exit ${r.code}): ${lastLines(r, 3, ' ')}`, {
      host: s.repoNode,
      code: 'pgbackrest.info-failed',
      hint: 'Is pgbackrest installed there, and its config written (ctl runbook pgbackrest-setup <env>)?',
    })
  const info = parsePgbackrestInfo(JSON.parse(r.stdout || '[]'), s.stanza)
  // Code 1: the stanza's path is missing (stanza-create not run yet).
  return info && info.status.code !== 1 ? info : undefined
}

/** Patroni's restart of one member (POST /restart), then waits until it runs again with nothing pending. */
export async function restartMember(access: PatroniAccess, name: string, onProgress: (text: string) => void, step: string, timeoutMs = 120_000): Promise<void> {
  const member = access.member(name)
  const reply = await access.request(name, {method: 'POST', path: '/restart', body: {}, timeoutSeconds: 60})
  if (reply.status !== 200)
    throw new CtlError(`Patroni refused to restart ${name}: ${reply.text || reply.transportError || `HTTP ${reply.status}`}`, {
      host: member.node,
      step,
      code: 'pgbackrest.restart-failed',
      hint: `Look at Patroni's log on ${member.node}; restart it by hand with patronictl restart.`,
    })
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = await access.request(name, {method: 'GET', path: '/patroni', timeoutSeconds: 5})
    const parsed = status.json ? parseMemberStatus(status.json) : undefined
    if (parsed?.state === 'running' && !parsed.pendingRestart) return
    onProgress(`${name}: ${parsed?.state ?? 'no answer'}${parsed?.pendingRestart ? ', restart pending' : ''}`)
    if (Date.now() > deadline)
      throw new CtlError(`${name} did not run again within ${timeoutMs / 1000} s after its restart`, {
        host: member.node,
        step,
        code: 'pgbackrest.restart-failed',
        hint: `Look at Patroni's log on ${member.node}.`,
      })
    await sleep(500)
  }
}

/** A step's plan that is one pgbackrest command on the repository node. */
export function repoCommandPlan(loaded: LoadedInventory, summary: string, ...args: string[]): StepPlan {
  const s = pgbackrestSettings(loaded)
  return {summary, commands: [{node: s.repoNode, command: renderCommand(pgbackrestCommand(s, s.repoNode, ...args))}]}
}

/** pgBackRest's answer when another of its processes holds the lock (an archive-push, a scheduled backup). */
const LOCK_BUSY = /ERROR: \[050\]|unable to acquire lock/

/**
 * Runs a pgbackrest command and runs it again while another pgBackRest process holds its lock (up to
 * `waitMs`): PostgreSQL's archive-push takes the stanza's archive lock for a moment every few seconds,
 * and pgBackRest fails at once rather than wait for it.
 */
export async function runPgbackrest(
  ctx: Pick<StepContext<unknown>, 'run' | 'progress'>,
  node: string,
  argv: string[],
  options: {timeoutMs: number; waitMs?: number},
): Promise<Awaited<ReturnType<StepContext<unknown>['run']>>> {
  const deadline = Date.now() + (options.waitMs ?? 30_000)
  for (;;) {
    const r = await ctx.run(node, argv, {timeoutMs: options.timeoutMs})
    if (r.code === 0 || !LOCK_BUSY.test(`${r.stdout}\n${r.stderr}`) || Date.now() > deadline) return r
    ctx.progress(`another pgBackRest process holds the lock on ${node}; trying again`)
    await sleep(1000)
  }
}
