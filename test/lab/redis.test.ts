import {execa} from 'execa'
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {beforeAll, describe, expect, it} from 'vitest'
import {json, projectRoot, runCtl} from '../support/cli.js'
import {DATA_SIDE, expectStatusListsFirst, labStatus} from './support/status.js'

// Redis with Sentinel on the lab (seed 002): the redis check, a planned failover to a chosen replica
// with the keys written before it checked on the new master, the refusals, and the master's loss
// (Sentinel fails over by itself; the check names the dead member until `lab up` restarts it), and
// every member down: redis-recover starts the member with the newest data as master, the others as
// its replicas, with the keys checked on each; also when the master's data directory is lost.

const ADDRESSES: Record<string, string> = {h1: '198.18.0.11', h2: '198.18.0.12', h3: '198.18.0.13'}
const password = () => readFileSync(join(projectRoot, '.lab', 'redis-password'), 'utf8').trim()

async function cli(address: string, port: number, ...args: string[]): Promise<string> {
  const r = await execa('redis-cli', ['--no-auth-warning', '-h', address, '-p', String(port), ...args], {env: {REDISCLI_AUTH: password()}, reject: false})
  return String(r.stdout).trim()
}
const masterNode = async (): Promise<string> => {
  const [address] = (await cli(ADDRESSES.h2!, 26379, 'SENTINEL', 'get-master-addr-by-name', 'ctl-lab')).split('\n')
  return Object.keys(ADDRESSES).find((n) => ADDRESSES[n] === address) ?? `unknown ${address}`
}
const check = async () => json(await runCtl(['check', 'run', 'lab', 'redis', '--json']))
const rows = (report: any) => report.results.filter((r: any) => r.check === 'redis')

async function healthy(): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (rows(await check()).every((r: any) => r.status === 'pass')) return
    if (i % 10 === 9) await runCtl(['lab', 'up', '--only', 'redis', '--json'], {timeoutMs: 300_000})
    await sleep(2000)
  }
  throw new Error(`redis did not become healthy: ${JSON.stringify(rows(await check()))}`)
}

async function writeKeys(prefix: string, n: number): Promise<void> {
  const master = ADDRESSES[await masterNode()]!
  for (let i = 0; i < n; i++) await cli(master, 6379, 'SET', `${prefix}:${i}`, String(i))
  // Every replica has them before anything happens to the master.
  expect(await cli(master, 6379, 'WAIT', '2', '5000')).toBe('2')
}
const countKeys = async (node: string, prefix: string) => (await cli(ADDRESSES[node]!, 6379, 'KEYS', `${prefix}:*`)).split('\n').filter(Boolean).length

describe('Redis with Sentinel (lab)', () => {
  beforeAll(async () => {
    const up = await runCtl(['lab', 'up', '--only', 'redis', '--json'], {timeoutMs: 300_000})
    expect(up.exitCode, up.stderr).toBe(0)
    await healthy()
  })

  it('the redis check passes on every member: one master all sentinels name, two replicas in sync', async () => {
    const found = rows(await check())
    expect(found.map((r: any) => r.target).sort()).toEqual(['h1', 'h2', 'h3'])
    const master = await masterNode()
    expect(found.find((r: any) => r.target === master).detail).toMatch(/^master, 2 of 2 replicas online, offset \d+; 3 of 3 sentinels agree$/)
    for (const r of found.filter((x: any) => x.target !== master)) expect(r.detail).toMatch(/^replica of 198\.18\.0\.1\d:6379, link up, \d+ bytes behind$/)
  })

  it('redis-failover promotes the chosen replica; the keys written before are on it; every member follows', async () => {
    await writeKeys('before-failover', 200)
    const old = await masterNode()
    const to = ['h1', 'h2', 'h3']
      .filter((n) => n !== old)
      .sort()
      .at(-1)!
    const dry = json(await runCtl(['runbook', 'redis-failover', 'lab', '--to', to, '--dry-run', '--json']))
    expect(dry.outcome).toBe('dry-run')
    expect(await masterNode()).toBe(old)
    const run = await runCtl(['runbook', 'redis-failover', 'lab', '--to', to, '--yes', '--json'])
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    expect(result.summary).toMatchObject({master: old, target: to})
    expect(await masterNode()).toBe(to)
    expect(await cli(ADDRESSES[to]!, 6379, 'ROLE')).toMatch(/^master/)
    expect(await cli(ADDRESSES[old]!, 6379, 'ROLE')).toMatch(/^slave/)
    expect(await countKeys(to, 'before-failover')).toBe(200)
    // The priorities it lowered are back.
    for (const node of ['h1', 'h2', 'h3']) expect(await cli(ADDRESSES[node]!, 6379, 'CONFIG', 'GET', 'replica-priority')).toBe('replica-priority\n100')
    expect(rows(await check()).every((r: any) => r.status === 'pass')).toBe(true)
  })

  it('refuses the master itself and a replica that must never be promoted, changing nothing', async () => {
    const master = await masterNode()
    const self = await runCtl(['runbook', 'redis-failover', 'lab', '--to', master, '--yes', '--json'])
    expect(self.exitCode).toBe(2)
    expect(json(self).error.code).toBe('redis.bad-target')
    const replica = ['h1', 'h2', 'h3'].find((n) => n !== master)!
    await cli(ADDRESSES[replica]!, 6379, 'CONFIG', 'SET', 'replica-priority', '0')
    try {
      const unfit = await runCtl(['runbook', 'redis-failover', 'lab', '--to', replica, '--yes', '--json'])
      expect(unfit.exitCode).toBe(2)
      expect(json(unfit).error).toMatchObject({code: 'redis.unfit-target', message: expect.stringContaining('replica-priority is 0')})
    } finally {
      await cli(ADDRESSES[replica]!, 6379, 'CONFIG', 'SET', 'replica-priority', '100')
    }
    expect(await masterNode()).toBe(master)
  })

  it('redis-master-down: Sentinel fails over by itself, the check names the dead member, a planned failover still works, lab up brings it back as a replica; no key lost', async () => {
    await writeKeys('before-loss', 100)
    const old = await masterNode()
    const {report: before} = await labStatus()
    const broke = await runCtl(['lab', 'break', 'redis-master-down', '--yes'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    let now = old
    for (let i = 0; i < 60 && now === old; i++) {
      await sleep(1000)
      now = await masterNode()
    }
    expect(now).not.toBe(old)
    const dead = rows(await check()).find((r: any) => r.target === old)
    expect(dead).toMatchObject({status: 'fail', detail: expect.stringContaining('does not answer')})
    await expectStatusListsFirst(before, 'redis', old, DATA_SIDE)
    expect(await countKeys(now, 'before-loss')).toBe(100)
    // A planned failover with that member still down: the other replica takes over; the dead one is not waited for.
    const other = ['h1', 'h2', 'h3'].find((n) => n !== old && n !== now)!
    const moved = await runCtl(['runbook', 'redis-failover', 'lab', '--yes', '--json'])
    expect(moved.exitCode, JSON.stringify(json(moved).error)).toBe(0)
    expect(json(moved).summary).toMatchObject({master: now, target: other})
    expect(await countKeys(other, 'before-loss')).toBe(100)
    const up = await runCtl(['lab', 'up', '--only', 'redis', '--json'], {timeoutMs: 300_000})
    expect(up.exitCode, up.stderr).toBe(0)
    await healthy()
    expect(await cli(ADDRESSES[old]!, 6379, 'ROLE')).toMatch(/^slave/)
    expect(await countKeys(old, 'before-loss')).toBe(100)
  })

  const recover = async (...args: string[]) => {
    const run = await runCtl(['runbook', 'redis-recover', 'lab', ...args, '--json'], {timeoutMs: 300_000})
    return {exitCode: run.exitCode, result: json(run)}
  }
  const everyMemberHas = async (prefix: string, n: number) => {
    for (const node of ['h1', 'h2', 'h3']) expect(await countKeys(node, prefix), node).toBe(n)
  }
  /** What every sentinel knows of the master: it answers (no s_down flag) and has both replicas. */
  const sentinelsSee = async (node: string) => {
    for (const at of Object.values(ADDRESSES)) {
      const fields = (await cli(at, 26379, 'SENTINEL', 'MASTER', 'ctl-lab')).split('\n')
      const field = (name: string) => fields[fields.indexOf(name) + 1]
      expect(field('ip'), at).toBe(ADDRESSES[node])
      expect(field('flags'), at).toBe('master')
      expect(field('num-slaves'), at).toBe('2')
    }
  }

  it('redis-all-down: redis-recover starts the master the sentinels named (same data, same moment) first, the others as its replicas; no key lost', async () => {
    await healthy()
    await writeKeys('before-all-down', 150)
    const master = await masterNode()
    const {report: before} = await labStatus()
    const broke = await runCtl(['lab', 'break', 'redis-all-down', '--yes'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    expect(rows(await check()).every((r: any) => r.status === 'fail')).toBe(true)
    const status = await expectStatusListsFirst(before, 'redis', /^h[123]$/, DATA_SIDE)
    expect(status.clusters.find((c) => c.name === 'redis')).toMatchObject({state: 'down'})
    // The plan changes nothing: every redis-server stays down.
    const dry = await recover('--dry-run')
    expect(dry.exitCode, JSON.stringify(dry.result.error)).toBe(0)
    expect(dry.result.summary).toMatchObject({source: master})
    expect(await cli(ADDRESSES[master]!, 6379, 'PING')).not.toBe('PONG')
    const run = await recover('--yes')
    expect(run.exitCode, JSON.stringify(run.result.error)).toBe(0)
    expect(run.result.summary).toMatchObject({source: master, keys: {h1: expect.any(Number)}})
    expect(run.result.steps.find((s: any) => s.id === 'sentinels').status).toBe('skipped')
    expect(await masterNode()).toBe(master)
    await everyMemberHas('before-all-down', 150)
    expect(rows(await check()).every((r: any) => r.status === 'pass')).toBe(true)
    await sentinelsSee(master)
    // Nothing left to do: a second run finishes at the facts.
    const again = await recover('--yes')
    expect(again.exitCode).toBe(0)
    expect(again.result.finishedEarly).toMatch(/every member runs and follows/)
  })

  it("every member down and the master's data directory lost: redis-recover refuses it as the source, starts a replica with the data as master, points the sentinels at it, and the old master rejoins with every key", async () => {
    await healthy()
    await writeKeys('before-disk-loss', 120)
    const master = await masterNode()
    const broke = await runCtl(['lab', 'break', 'redis-all-down', '--yes'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    rmSync(`/var/lib/ctl-lab/${master}/redis/data`, {recursive: true, force: true})
    const refused = await recover('--from', master, '--yes')
    expect(refused.exitCode).toBe(2)
    expect(refused.result.error).toMatchObject({code: 'redis.bad-source', message: expect.stringContaining('its data directory does not exist')})
    const run = await recover('--yes')
    expect(run.exitCode, JSON.stringify(run.result.error)).toBe(0)
    const source = run.result.summary.source
    expect(source).not.toBe(master)
    expect(run.result.steps.find((s: any) => s.id === 'sentinels').status).toBe('done')
    expect(await masterNode()).toBe(source)
    expect(await cli(ADDRESSES[master]!, 6379, 'ROLE')).toMatch(/^slave/)
    await everyMemberHas('before-disk-loss', 120)
    await sentinelsSee(source)
    expect(rows(await check()).every((r: any) => r.status === 'pass')).toBe(true)
    // The sentinels still fail over by themselves afterwards: they know the replicas again.
    const killed = await runCtl(['lab', 'break', 'redis-master-down', '--yes'])
    expect(killed.exitCode, killed.stderr).toBe(0)
    let now = source
    for (let i = 0; i < 60 && now === source; i++) {
      await sleep(1000)
      now = await masterNode()
    }
    expect(now).not.toBe(source)
    expect(await countKeys(now, 'before-disk-loss')).toBe(120)
    const up = await runCtl(['lab', 'up', '--only', 'redis', '--json'], {timeoutMs: 300_000})
    expect(up.exitCode, up.stderr).toBe(0)
    await healthy()
  })
})
