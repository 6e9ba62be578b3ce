import {execa} from 'execa'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'vitest'
import {json, projectRoot, runCtl} from '../../support/cli.js'

/**
 * Helpers of the Patroni lab tests. They look at the real cluster on their own (Patroni's REST API
 * from this machine, psql against the members), not through the code under test.
 */

export const members = [1, 2, 3].map((i) => ({name: `pg-h${i}`, node: `h${i}`, address: `198.18.0.${10 + i}`}))
export type LabMember = (typeof members)[number]
export const WRITE_ENDPOINT = {host: '198.18.0.11', port: 5000}

export function member(name: string): LabMember {
  const m = members.find((x) => x.name === name)
  if (!m) throw new Error(`no lab member ${name}`)
  return m
}

function password(): string {
  return readFileSync(join(projectRoot, '.lab', 'patroni-superuser.password'), 'utf8').trim()
}

/** psql against a lab address (PGPASSWORD only in this child's environment). Throws on failure. */
export async function psql(address: string, sql: string, options: {db?: string; port?: number} = {}): Promise<string> {
  const r = await execa(
    'psql',
    ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', address, '-p', String(options.port ?? 5432), '-U', 'postgres', '-d', options.db ?? 'postgres'],
    {
      input: sql,
      env: {PGPASSWORD: password(), PGCONNECT_TIMEOUT: '5'},
      reject: false,
      timeout: 60_000,
    },
  )
  if (r.exitCode !== 0) throw new Error(`psql on ${address} failed: ${r.stderr}`)
  return String(r.stdout).trim()
}

export interface ClusterMember {
  name: string
  role: string
  state: string
  timeline?: number
}

/** Patroni's /cluster, asked of the first member that answers. */
export async function cluster(): Promise<ClusterMember[]> {
  for (const m of members) {
    try {
      const reply = await fetch(`http://${m.address}:8008/cluster`, {signal: AbortSignal.timeout(3000)})
      if (reply.ok) return ((await reply.json()) as {members: ClusterMember[]}).members
    } catch {
      // next member
    }
  }
  return []
}

export async function leaderName(): Promise<string | undefined> {
  return (await cluster()).find((m) => m.role === 'leader')?.name
}

/** application_name of every replica the leader streams to, from its pg_stat_replication. */
export async function streamingFrom(leader: string): Promise<string[]> {
  const out = await psql(member(leader).address, "select application_name from pg_stat_replication where state = 'streaming' order by 1")
  return out ? out.split('\n') : []
}

/** A write on `name` succeeds (it is a writable primary). */
export async function writeOn(name: string, token: string): Promise<void> {
  await psql(
    member(name).address,
    `create table if not exists ctl_lab_probe (token text, at timestamptz default now()); insert into ctl_lab_probe (token) values ('${token}')`,
  )
}

export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** One leader and the two others streaming from it (pg_stat_replication). */
async function healthyLeader(): Promise<string | undefined> {
  const leader = await leaderName()
  if (!leader) return undefined
  const streaming = await streamingFrom(leader)
  return streaming.length === members.length - 1 ? leader : undefined
}

/** `ctl lab up --only patroni` (repairs), then waits for a leader and two streaming replicas. */
export async function ensureHealthy(): Promise<string> {
  const leader = await healthyLeader().catch(() => undefined)
  if (leader) return leader
  const run = await runCtl(['lab', 'up', '--only', 'patroni', '--json'], {timeoutMs: 300_000})
  expect(run.exitCode, run.stdout + run.stderr).toBe(0)
  expect(json(run).components).toEqual([{component: 'patroni', ok: true}])
  return waitFor('a leader and two streaming replicas', healthyLeader)
}

/** Runs a member's lab-installed control script over SSH, the way the inventory's `control` says. */
export async function control(name: string, action: 'start' | 'stop' | 'kill' | 'status'): Promise<number> {
  const m = member(name)
  const run = await runCtl(['exec', 'lab', '--node', m.node, '--json', '--', `/var/lib/ctl-lab/${m.node}/bin/ctl-lab-patroni`, action])
  return json(run).results[0].code
}
