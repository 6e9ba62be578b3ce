import {execa} from 'execa'
import {readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {ensureHealthy, member, members, psql, waitFor, WRITE_ENDPOINT} from './support/patroni.js'

// pgBackRest on the lab's Patroni cluster: archiving set up through Patroni, a backup from a replica
// into the encrypted repository on the backup host h4, and a restore to a time between two writes that holds exactly
// the rows committed before it. A damaged repository is caught by verify and by the restore.

const DB = 'ctl_lab_pitr'
const REPO = '/var/lib/ctl-lab/h4/pgbackrest/repo'
const writeRow = (id: number) =>
  psql(WRITE_ENDPOINT.host, `insert into writes(id) values (${id}) returning to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, {
    db: DB,
    port: WRITE_ENDPOINT.port,
  })

/** psql on the scratch server's socket, as postgres (the socket is a file on the shared filesystem). */
async function scratchPsql(dir: string, port: number, sql: string): Promise<string> {
  const r = await execa('runuser', ['-u', 'postgres', '--', 'psql', '-X', '-At', '-h', dir, '-p', String(port), '-d', DB, '-c', sql], {reject: false})
  if (r.exitCode !== 0) throw new Error(`scratch psql failed: ${r.stderr}`)
  return String(r.stdout).trim()
}

const scratchDirs = () => readdirSync('/var/tmp').filter((d) => d.startsWith('ctl-pitr-'))

/**
 * A file of the newest full backup in the repository (encrypted and compressed by pgBackRest) that no
 * later backup copies again: template0's (base/4) never changes, so every later incremental backup,
 * the drill and a restore all read this very file.
 */
function backupFile(): string {
  const stanzaDir = join(REPO, 'backup', 'ctl-lab')
  const label = readdirSync(stanzaDir)
    .filter((d) => /^\d{8}-\d{6}F$/.test(d))
    .sort()
    .at(-1)!
  const base = join(stanzaDir, label, 'pg_data', 'base', '4')
  return join(
    base,
    readdirSync(base).find((f) => statSync(join(base, f)).size > 4096)!,
  )
}

describe('pgBackRest: archiving, backups and point-in-time restore', () => {
  const rows: {id: number; at: string}[] = []
  const removals: string[] = []
  let pitrTarget = {before: {id: 0, at: ''}, target: ''}

  beforeAll(async () => {
    const leader = member(await ensureHealthy()).address
    await psql(leader, `drop database if exists ${DB} with (force)`)
    await psql(leader, `create database ${DB}`)
    await psql(leader, 'create table writes (id int primary key, at timestamptz not null default clock_timestamp())', {db: DB})
  })

  afterAll(async () => {
    for (const command of removals) await execa('sh', ['-c', command], {reject: false})
    const leader = member(await ensureHealthy()).address
    await psql(leader, `drop database if exists ${DB} with (force)`)
    await psql(leader, `drop database if exists ${DB}_before with (force)`)
  })

  it('sets up archiving through Patroni and checks it from every node; a second run changes nothing', async () => {
    const first = await runCtl(['runbook', 'pgbackrest-setup', 'lab', '--yes', '--json'])
    const result = json(first)
    expect(first.exitCode, JSON.stringify(result.error)).toBe(0)
    expect(result.steps.find((s: {id: string}) => s.id === 'check').status).toBe('done')
    const leaderName = await ensureHealthy()
    const leader = member(leaderName).address
    expect(await psql(leader, "select current_setting('archive_mode') || ' ' || current_setting('archive_command')")).toBe(
      'on pgbackrest --stanza=ctl-lab archive-push "%p"',
    )
    // Standbys read the archive (and a promotion sees the timelines in it): restore_command through Patroni's recovery_conf.
    for (const m of members.filter((x) => x.name !== leaderName))
      await waitFor(`restore_command on ${m.name}`, async () =>
        (await psql(m.address, "select current_setting('restore_command')")) === 'pgbackrest --stanza=ctl-lab archive-get %f "%p"' ? true : undefined,
      )
    // The repository key is in the repository node's config only (0600), never in a member's.
    const key = readFileSync('.lab/pgbackrest-cipher.password', 'utf8').trim()
    expect(readFileSync('/var/lib/ctl-lab/h4/pgbackrest/pgbackrest.conf', 'utf8')).toContain(`repo1-cipher-pass=${key}`)
    expect(readFileSync('/var/lib/ctl-lab/h1/pgbackrest/pgbackrest.conf', 'utf8')).not.toContain(key)
    expect(first.stdout).not.toContain(key)

    const again = json(await runCtl(['runbook', 'pgbackrest-setup', 'lab', '--yes', '--json']))
    expect(again.outcome).toBe('ok')
    expect(again.steps.find((s: {id: string}) => s.id === 'archiving').status).toBe('skipped')
  })

  it("the preflight's patroni check fails while the leader cannot archive, naming the segment, and passes again once it can", async () => {
    const leaderName = await ensureHealthy()
    const leader = member(leaderName)
    const config = `/var/lib/ctl-lab/${leader.node}/pgbackrest/pgbackrest.conf`
    const good = readFileSync(config, 'utf8')
    const archiving = async () => {
      const run = await runCtl(['check', 'run', 'lab', 'patroni', '--json'])
      return json(run).results.find((r: {target: string}) => r.target === 'archiving')
    }
    try {
      // archive-push on the leader now fails: the repository host (h4, no member) is asked with a config
      // that is not there.
      writeFileSync(
        config,
        good.replace(/^repo1-host-config=.*$/m, 'repo1-host-config=/nonexistent/pgbackrest.conf').replace(/^repo1-path=.*$/m, 'repo1-path=/nonexistent/repo'),
      )
      await psql(leader.address, 'create temp table ctl_probe (x int); select pg_switch_wal()')
      let found = await archiving()
      for (let i = 0; i < 30 && found.status !== 'fail'; i++) {
        await new Promise((r) => setTimeout(r, 1000))
        found = await archiving()
      }
      expect(found).toMatchObject({status: 'fail', detail: expect.stringMatching(new RegExp(`^archiving fails on ${leaderName}: [0-9A-F]{24} failed`))})
      expect(found.hint).toContain('pgbackrest-setup lab')
    } finally {
      writeFileSync(config, good)
    }
    await psql(leader.address, 'create temp table ctl_probe (x int); select pg_switch_wal()')
    let found = await archiving()
    // After three failed attempts PostgreSQL's archiver waits a minute before trying again.
    for (let i = 0; i < 120 && found.status !== 'pass'; i++) {
      await new Promise((r) => setTimeout(r, 1000))
      found = await archiving()
    }
    expect(found.status).toBe('pass')
  }, 400_000)

  it('backs up from a replica while writes go on, and verifies the repository', async () => {
    let id = 0
    let writing = true
    const writer = (async () => {
      while (writing) rows.push({id: ++id, at: await writeRow(id)})
    })()
    try {
      const run = await runCtl(['runbook', 'pgbackrest-backup', 'lab', '--type', 'full', '--yes', '--json'])
      const result = json(run)
      expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
      expect(result.summary.source).toMatch(/replica/)
      expect(result.summary.backup.type).toBe('full')
      expect(result.summary.verified.ok).toBe(true)
      // More writes after the backup: the restore target lies among them.
      await new Promise((r) => setTimeout(r, 2000))
    } finally {
      writing = false
      await writer
    }
    expect(rows.length).toBeGreaterThan(20)
  })

  it('lists the repository’s backups (encrypted) and drills the newest into a scratch server, recording the result', async () => {
    const list = await runCtl(['backup', 'list', 'lab', '--database', 'pgbackrest', '--json'])
    // The offsite repository's backups (pg-offsite.test.ts) are a series of their own.
    const points = json(list).restorePoints.filter((p: {series: string}) => p.series === 'pgbackrest/ctl-lab')
    expect(list.exitCode, list.stderr).toBe(0)
    expect(points.length).toBeGreaterThan(0)
    expect(points[0]).toMatchObject({database: 'pgbackrest', series: 'pgbackrest/ctl-lab', nodes: ['h4'], complete: true, encrypted: true})
    const drillsBefore = readdirSync('/var/tmp').filter((d) => d.startsWith('ctl-drill-'))
    const verify = await runCtl(['backup', 'verify', 'lab', '--database', 'pgbackrest', '--json'])
    const result = json(verify)
    expect(verify.exitCode, JSON.stringify(result)).toBe(0)
    expect(result.results[0].record).toMatchObject({outcome: 'passed', counts: 'not recorded'})
    expect(result.results[0].record.tables).toBeGreaterThan(0)
    // The scratch server and its directory are gone; the list shows the drill.
    expect(readdirSync('/var/tmp').filter((d) => d.startsWith('ctl-drill-'))).toEqual(drillsBefore)
    const after = json(await runCtl(['backup', 'list', 'lab', '--database', 'pgbackrest', '--json'])).restorePoints
    expect(after.find((p: {path: string}) => p.path === result.results[0].target.path).lastDrill.outcome).toBe('passed')
  })

  it('restores to a time between two writes: exactly the rows committed before it, none after', async () => {
    // A gap between two writes after the backup; the target is halfway.
    const k = rows.length - 5
    const before = rows[k - 1]!
    const after = rows[k]!
    const target = new Date((Date.parse(before.at) + Date.parse(after.at)) / 2).toISOString()
    pitrTarget = {before, target}
    const run = await runCtl(['runbook', 'pg-restore', 'lab', '--at', target, '--yes', '--json'])
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    const scratch = result.summary.scratch
    removals.push(scratch.remove)
    expect(scratch.node).toBe('h4')
    expect(result.summary.rows[`${DB}.public.writes`]).toBe(before.id)
    // Read on its own: ids 1..k, all of them, nothing later.
    expect(await scratchPsql(scratch.dir, scratch.port, "select count(*) || ' ' || min(id) || ' ' || max(id) from writes")).toBe(`${before.id} 1 ${before.id}`)
    // The scratch server never archives into the production repository.
    expect(await scratchPsql(scratch.dir, scratch.port, "select current_setting('archive_mode')")).toBe('off')
    // The same time as a restore drill (backup verify --at): the same rows, counted, nothing left behind.
    const drill = await runCtl(['backup', 'verify', 'lab', '--component', 'pgbackrest', '--at', target, '--json'])
    const drilled = json(drill)
    expect(drill.exitCode, JSON.stringify(drilled)).toBe(0)
    const local = drilled.results.find((r: {target: {series: string}}) => r.target.series === 'pgbackrest/ctl-lab')
    expect(local.rowCounts[`${DB}.public.writes`]).toBe(before.id)
    expect(drilled.drills[0].at).toBe(new Date(target).toISOString())
  })

  it('copies the restored database into a NEW database on the cluster, rows compared; an existing one is refused, untouched', async () => {
    const {before, target} = pitrTarget
    const run = await runCtl(['runbook', 'pg-restore', 'lab', '--at', target, '--db', DB, '--into', `${DB}_before`, '--yes', '--json'])
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    removals.push(result.summary.scratch.remove)
    expect(result.summary.copy).toMatchObject({source: DB, into: `${DB}_before`, tables: 1, rows: before.id})
    const leader = member(await ensureHealthy()).address
    expect(await psql(leader, "select count(*) || ' ' || max(id) from writes", {db: `${DB}_before`})).toBe(`${before.id} ${before.id}`)

    const all = await psql(leader, 'select count(*) from writes', {db: DB})
    const dirs = readdirSync('/var/tmp').filter((d) => d.startsWith('ctl-pitr-'))
    const refused = await runCtl(['runbook', 'pg-restore', 'lab', '--at', target, '--db', DB, '--into', DB, '--yes', '--json'])
    expect(refused.exitCode).toBe(2)
    expect(json(refused).error.code).toBe('pitr.into-exists')
    // Refused before anything was restored: no scratch server either.
    expect(readdirSync('/var/tmp').filter((d) => d.startsWith('ctl-pitr-'))).toEqual(dirs)
    expect(await psql(leader, 'select count(*) from writes', {db: DB})).toBe(all)
  })

  it('refuses a time before the oldest backup and a time in the future, creating nothing', async () => {
    const dirs = scratchDirs()
    for (const at of ['2000-01-01 00:00:00Z', new Date(Date.now() + 3_600_000).toISOString()]) {
      const run = await runCtl(['runbook', 'pg-restore', 'lab', '--at', at, '--yes', '--json'])
      expect(run.exitCode).toBe(2)
      expect(json(run).error.code).toMatch(/pgbackrest\.(target-too-old|future-target)/)
    }
    const bad = await runCtl(['runbook', 'pg-restore', 'lab', '--at', 'yesterday; rm -rf /', '--yes'])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/--at needs a time/)
    expect(scratchDirs()).toEqual(dirs)
  })

  it('finds a damaged backup in the repository: pgbackrest verify, the restore drill and a restore from it all fail, leaving nothing behind', async () => {
    const file = backupFile()
    const original = readFileSync(file)
    const damaged = Buffer.from(original)
    damaged[Math.floor(damaged.length / 2)] ^= 0xff
    writeFileSync(file, damaged)
    const dirs = scratchDirs()
    try {
      const verify = await runCtl(['runbook', 'pgbackrest-backup', 'lab', '--type', 'incr', '--yes', '--json'])
      expect(verify.exitCode).toBe(1)
      expect(json(verify).error.code).toBe('pgbackrest.verify-failed')
      const drill = await runCtl(['backup', 'verify', 'lab', '--database', 'pgbackrest', '--json'])
      expect(drill.exitCode).toBe(1)
      expect(json(drill).results[0].record.problems.join(' ')).toMatch(/^integrity failed/)
      const restore = await runCtl(['runbook', 'pg-restore', 'lab', '--at', rows.at(-1)!.at, '--yes', '--json'])
      expect(restore.exitCode).toBe(1)
      expect(json(restore).error.code).toBe('pitr.restore-failed')
      expect(scratchDirs()).toEqual(dirs)
    } finally {
      writeFileSync(file, original)
    }
  })
})
