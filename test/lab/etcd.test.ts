import {execa} from 'execa'
import {readFileSync, writeFileSync, copyFileSync} from 'node:fs'
import {beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {cluster, ensureHealthy} from './support/patroni.js'
import {expectStatusListsFirst, labStatus} from './support/status.js'

// etcd on the lab (Patroni's DCS, 3 members): the etcd check (quorum, one leader, alarms, database
// size), and the loss of a member's data directory recovered by etcd-member-replace, with Patroni's
// keys and an APISIX-like prefix checked on the replaced member from its own state; a snapshot, and
// etcd-restore back to it with Patroni stopped around it and its leader unchanged.

const URLS: Record<string, string> = {h1: 'http://198.18.0.11:2379', h2: 'http://198.18.0.12:2379', h3: 'http://198.18.0.13:2379'}

async function etcdctl(endpoint: string, ...args: string[]): Promise<string> {
  const r = await execa('etcdctl', [`--endpoints=${endpoint}`, '--dial-timeout=3s', '--command-timeout=10s', ...args], {env: {ETCDCTL_API: '3'}, reject: false})
  return String(r.stdout).trim()
}
/** Keys under a prefix, as one member holds them (serializable: its own state, not the leader's). */
const keysOn = async (node: string, prefix: string) =>
  (await etcdctl(URLS[node]!, 'get', prefix, '--prefix', '--keys-only', '--consistency=s')).split('\n').filter(Boolean).sort()
const check = async () => json(await runCtl(['check', 'run', 'lab', 'etcd', '--json']))
const rows = (report: any) => report.results.filter((r: any) => r.check === 'etcd')
const replace = async (...args: string[]) => {
  const run = await runCtl(['runbook', 'etcd-member-replace', 'lab', ...args, '--json'], {timeoutMs: 300_000})
  return {exitCode: run.exitCode, result: json(run)}
}

describe('etcd (lab)', () => {
  beforeAll(async () => {
    await ensureHealthy()
  })

  it('the etcd check passes on every member: healthy, one leader, every member answers, no alarm, the database far under its quota', async () => {
    const found = rows(await check())
    expect(found.map((r: any) => r.target).sort()).toEqual(['etcd-h1', 'etcd-h2', 'etcd-h3'])
    for (const r of found) {
      expect(r.status, r.detail).toBe('pass')
      expect(r.detail).toMatch(/^healthy, etcd 3\.\d+\.\d+, raft term \d+(, leader)?, 3 of 3 members answer, db \d+\.\d MiB of 2048\.0 MiB$/)
    }
    expect(found.filter((r: any) => r.detail.includes(', leader,'))).toHaveLength(1)
  })

  it('refuses to replace a healthy member, and when every member is healthy, changing nothing', async () => {
    const none = await replace('--yes')
    expect(none.exitCode).toBe(2)
    expect(none.result.error.code).toBe('etcd.healthy')
    const healthy = await replace('--member', 'etcd-h1', '--yes')
    expect(healthy.exitCode).toBe(2)
    expect(healthy.result.error.code).toBe('etcd.member-healthy')
    expect(rows(await check()).every((r: any) => r.status === 'pass')).toBe(true)
  })

  it("etcd-member-loss: the lost member fails the check, lab up refuses to start it empty, etcd-member-replace brings it back holding Patroni's keys and an APISIX-like prefix", async () => {
    for (let i = 1; i <= 40; i++) await etcdctl(URLS.h1!, 'put', `/apisix/routes/${i}`, JSON.stringify({id: i, uri: `/r${i}`}))
    const patroniKeys = await keysOn('h1', '/service/ctl-lab/')
    expect(patroniKeys).toEqual(expect.arrayContaining(['/service/ctl-lab/leader', '/service/ctl-lab/config']))
    const {report: before} = await labStatus()
    const broke = await runCtl(['lab', 'break', 'etcd-member-loss', 'h3', '--yes'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    const lost = rows(await check()).find((r: any) => r.target === 'etcd-h3')
    expect(lost).toMatchObject({status: 'fail', hint: expect.stringContaining('etcd-member-replace')})
    await expectStatusListsFirst(before, 'etcd', 'etcd-h3')
    const up = await runCtl(['lab', 'up', '--only', 'patroni', '--json'], {timeoutMs: 300_000})
    expect(up.exitCode).not.toBe(0)
    expect(`${up.stdout}${up.stderr}`).toContain('etcd-member-replace')

    const dry = await replace('--dry-run')
    expect(dry.exitCode, JSON.stringify(dry.result.error)).toBe(0)
    expect(dry.result.summary).toMatchObject({target: 'etcd-h3', removed: expect.stringMatching(/^[0-9a-f]+$/)})
    const run = await replace('--yes')
    expect(run.exitCode, JSON.stringify(run.result.error)).toBe(0)
    expect(run.result.summary).toMatchObject({target: 'etcd-h3'})
    const keys = run.result.summary.keys
    expect(keys['etcd-h3']).toBe(keys['etcd-h1'])
    expect(keys['etcd-h3']).toBeGreaterThanOrEqual(40 + patroniKeys.length)

    expect(await keysOn('h3', '/apisix/routes/')).toHaveLength(40)
    expect(await etcdctl(URLS.h3!, 'get', '/apisix/routes/7', '--print-value-only', '--consistency=s')).toBe(JSON.stringify({id: 7, uri: '/r7'}))
    expect(await keysOn('h3', '/service/ctl-lab/')).toEqual(expect.arrayContaining(['/service/ctl-lab/leader', '/service/ctl-lab/config']))
    expect(rows(await check()).every((r: any) => r.status === 'pass')).toBe(true)
    // The lab starts as before, and Patroni still has one leader and two streaming replicas.
    const again = await runCtl(['lab', 'up', '--only', 'patroni', '--json'], {timeoutMs: 300_000})
    expect(again.exitCode, again.stderr).toBe(0)
    await ensureHealthy()
    await etcdctl(URLS.h1!, 'del', '/apisix/', '--prefix')
  })

  const runbook = async (name: string, ...args: string[]) => {
    const run = await runCtl(['runbook', name, 'lab', ...args, '--json'], {timeoutMs: 600_000})
    return {exitCode: run.exitCode, result: json(run)}
  }
  const BACKUPS = '/var/lib/ctl-lab/h3/etcd-backups'

  it('etcd-snapshot saves a verified snapshot on the backup node and keeps the newest three', async () => {
    for (let i = 1; i <= 4; i++) {
      const snap = await runbook('etcd-snapshot', '--yes')
      expect(snap.exitCode, JSON.stringify(snap.result.error)).toBe(0)
      expect(snap.result.summary).toMatchObject({
        node: 'h3',
        status: {revision: expect.any(Number), totalKey: expect.any(Number)},
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      })
      expect(readFileSync(`${snap.result.summary.file}.sha256`, 'utf8').trim()).toBe(snap.result.summary.sha256)
    }
    const kept = (await execa('ls', [BACKUPS])).stdout.split('\n').filter((f) => f.endsWith('.db'))
    expect(kept).toHaveLength(3)
  })

  it('etcd-restore refuses a damaged snapshot changing nothing, then restores one: keys back as they were, later keys gone, Patroni on the same leader', async () => {
    for (let i = 1; i <= 30; i++) await etcdctl(URLS.h1!, 'put', `/apisix/upstreams/${i}`, `u${i}`)
    const snap = await runbook('etcd-snapshot', '--yes')
    expect(snap.exitCode, JSON.stringify(snap.result.error)).toBe(0)
    const file: string = snap.result.summary.file
    // A damaged copy of it, with the original's recorded sha256.
    const damagedName = `${BACKUPS}/etcd-20000101T000000000Z.db`
      .replace(/Z\.db$/, '9Z.db')
      .replace(/T(\d{9})9Z/, 'T$1Z')
      .replace(/(\d{3})Z\.db$/, (m) => `${String((Number(m.slice(0, 3)) + 1) % 1000).padStart(3, '0')}Z.db`)
    copyFileSync(file, damagedName)
    copyFileSync(`${file}.sha256`, `${damagedName}.sha256`)
    const bytes = readFileSync(damagedName)
    bytes[Math.floor(bytes.length / 2)] ^= 0xff
    writeFileSync(damagedName, bytes)
    const damaged = await runbook('etcd-restore', '--snapshot', damagedName.split('/').pop()!, '--yes')
    expect(damaged.exitCode).toBe(2)
    expect(damaged.result.error.code).toBe('etcd.snapshot-damaged')
    expect(rows(await check()).every((r: any) => r.status === 'pass')).toBe(true)
    await execa('rm', ['-f', damagedName, `${damagedName}.sha256`])

    const leader = await ensureHealthy()
    await etcdctl(URLS.h1!, 'put', '/apisix/after-snapshot', 'lost by the restore')
    await etcdctl(URLS.h1!, 'del', '/apisix/upstreams/', '--prefix')
    expect(await keysOn('h2', '/apisix/upstreams/')).toEqual([])

    const dry = await runbook('etcd-restore', '--snapshot', file.split('/').pop()!, '--dry-run')
    expect(dry.exitCode, JSON.stringify(dry.result.error)).toBe(0)
    expect(dry.result.summary).toMatchObject({restoredOn: 'etcd-h3', patroniLeader: leader})
    expect(await keysOn('h1', '/apisix/after-snapshot')).toEqual(['/apisix/after-snapshot'])

    const run = await runbook('etcd-restore', '--snapshot', file.split('/').pop()!, '--yes')
    expect(run.exitCode, JSON.stringify(run.result.error)).toBe(0)
    for (const node of ['h1', 'h2', 'h3']) {
      expect(await keysOn(node, '/apisix/upstreams/'), node).toHaveLength(30)
      expect(await keysOn(node, '/apisix/after-snapshot'), node).toEqual([])
    }
    const keys = run.result.summary.keys
    expect(new Set(Object.values(keys)).size).toBe(1)
    expect(rows(await check()).every((r: any) => r.status === 'pass')).toBe(true)
    expect(await ensureHealthy()).toBe(leader)
    expect((await cluster()).filter((m) => m.role === 'leader').map((m) => m.name)).toEqual([leader])
    await etcdctl(URLS.h1!, 'del', '/apisix/', '--prefix')
  })
})
