import {mkdirSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCtl} from '../support/cli.js'
import {ensureSwarm} from './support/app.js'
import {expectStatusListsFirst, labStatus, labVaultEnv} from './support/status.js'

// `ctl status lab` for what the other lab tests do not break (registry-down, offsite-down), and the
// activity it shows: a runbook in progress on the etcd cluster's hosts, with its operator.
// The other break scenarios are asserted where their own tests break them (check-preflight, etcd,
// redis, rabbitmq, galera-replica).

const LOCKS = '/var/lib/ctl/locks'

async function labUp(only: string): Promise<void> {
  const up = await runCtl(['lab', 'up', '--only', only, '--json'], {timeoutMs: 300_000})
  expect(up.exitCode, up.stderr).toBe(0)
}

describe('ctl status (lab)', () => {
  beforeAll(async () => {
    await ensureSwarm()
  })
  afterAll(async () => {
    for (const h of ['h1', 'h2', 'h3']) rmSync(join(LOCKS, `runbook-etcd-lab.${h}.lock`), {recursive: true, force: true})
  })

  it('registry-down: the registry-pull problem first, exit 1; lab up clears it', async () => {
    const {report: before} = await labStatus()
    const broke = await runCtl(['lab', 'break', 'registry-down', '--yes'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    try {
      await expectStatusListsFirst(before, 'registry-pull', /^h[123]$/)
    } finally {
      await labUp('registry')
    }
    const {report: after} = await labStatus()
    expect(after.problems.filter((p) => p.area === 'registry-pull')).toEqual([])
  })

  it('offsite-down: the offsite backups problem first, exit 1; lab up clears it', async () => {
    const {report: before} = await labStatus()
    const broke = await runCtl(['lab', 'break', 'offsite-down', '--yes'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    try {
      // The offsite copies cannot be listed: an error row (what is there is unknown), not a failure;
      // unless the leader's WAL push to it failed first (Patroni's archiving row, a failure).
      const {report: now} = await labStatus()
      const failing = (r: typeof now) => r.problems.some((p) => p.area === 'patroni' && p.target === 'archiving' && p.severity === 'fail')
      const archiving = failing(now) && !failing(before)
      const status = archiving
        ? await expectStatusListsFirst(before, 'patroni', 'archiving')
        : // pgBackRest lists both repositories at once: with the S3 one down, its (bounded) listing fails
          // the local backups row too, which comes first.
          await expectStatusListsFirst(before, /^backups(-offsite)?$/, /^(mariadb|pgbackrest)$/, [], 'lab', 'error')
      expect(status.problems.find((p) => p.area === 'backups-offsite')!.detail).toMatch(/198\.18\.0\.1|connection refused|unable to|Fatal|no answer/i)
      // The backup host itself still answers: the slow listing is that listing's error alone.
      expect(status.problems.filter((p) => p.area === 'ssh')).toEqual([])
    } finally {
      await labUp('offsite')
    }
  })

  it('a runbook in progress: its lock on the etcd hosts is one line naming the operator and the run; a silent one is stale', async () => {
    const plant = (holder: string, ageSeconds: number) => {
      const since = new Date(Date.now() - ageSeconds * 1000)
      for (const h of ['h1', 'h2']) {
        const dir = join(LOCKS, `runbook-etcd-lab.${h}.lock`)
        rmSync(dir, {recursive: true, force: true})
        mkdirSync(dir, {recursive: true})
        writeFileSync(
          join(dir, 'info.json'),
          JSON.stringify({id: 'tok', holder, from: 'laptop', since: since.toISOString(), env: 'lab', what: 'etcd-snapshot run r1'}),
        )
        utimesSync(dir, since, since)
      }
    }
    plant('carol', 5)
    const {report} = await labStatus()
    expect(report.locks).toEqual([
      expect.objectContaining({
        kind: 'runbook',
        name: 'runbook-etcd-lab',
        nodes: ['h1', 'h2'],
        holder: 'carol@laptop',
        what: 'etcd-snapshot run r1',
        stale: false,
      }),
    ])
    expect(report.problems.filter((p) => p.area === 'lock')).toEqual([])
    const text = await runCtl(['status', 'lab'], {env: labVaultEnv(), timeoutMs: 120_000})
    expect(text.stdout).toMatch(/^ {2}HELD {3}runbook lock runbook-etcd-lab on h1,h2: carol@laptop since \d+ min ago, etcd-snapshot run r1$/m)
    plant('carol', 3600)
    const {report: silent} = await labStatus()
    expect(silent.problems).toContainEqual(expect.objectContaining({severity: 'warn', area: 'lock', target: 'runbook-etcd-lab'}))
  })
})
