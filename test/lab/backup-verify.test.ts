import {appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, projectRoot, runCtl} from '../support/cli.js'
import {prepareTable, sql, writeRows} from './support/galera.js'
import {ensureHealthy, member, psql} from './support/patroni.js'
import {labInventoryCopy} from './support/swarm.js'

// ctl backup verify: restore drills of real mariabackup and pg_dump backups of the lab's clusters,
// into scratch servers on the node that holds them; a tampered backup fails its drill. Backup
// directories of their own (an inventory copy). The lab's hosts share one filesystem: the drills'
// records and scratch directories are checked on the local disk.

const MARIA_DIR = '/var/lib/ctl-lab/h3/galera-backups-verify-test'
const PG_DIR = '/var/lib/ctl-lab/backups/postgres-verify-test'
const DB = 'ctl_lab_drill'
const scratchDirs = () => readdirSync('/var/tmp').filter((f) => f.startsWith('ctl-drill-'))

describe('ctl backup verify (lab)', () => {
  let inventory = ''
  let maria = ''
  let dump = ''
  let galeraRows = 0

  beforeAll(async () => {
    rmSync(MARIA_DIR, {recursive: true, force: true})
    rmSync(PG_DIR, {recursive: true, force: true})
    inventory = labInventoryCopy((inv) => {
      for (const cluster of [inv.databases.galera, inv.databases.patroni]) cluster.password = cluster.password.replace('file:../', `file:${projectRoot}/`)
      inv.databases.galera.backupDir = MARIA_DIR
      inv.databases.patroni.backupDir = PG_DIR
      // These tests count the backup directories' restore points; the pgBackRest repository is test/lab/pg-pitr.test.ts's.
      delete inv.databases.patroni.pgbackrest
      // Redis's and RabbitMQ's are test/lab/redis-backups.test.ts's and rabbitmq-backups.test.ts's.
      delete inv.databases.redis.backupDir
      delete inv.databases.rabbitmq.backupDir
      inv.backups = {drillMaxAgeDays: 7}
    })
    await prepareTable()
    await writeRows('h1', 'drill', 250)
    galeraRows = Number(await sql('h1', 'SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*) FROM ctl_test.rows'))
    const leader = member(await ensureHealthy()).address
    await psql(leader, `drop database if exists ${DB} with (force)`)
    await psql(leader, `create database ${DB}`)
    await psql(
      leader,
      `create table items (id int primary key, note text); insert into items select g, 'item ' || g || E'\\nsecond line' from generate_series(1, 1234) g;
       create table "Odd name" (x int); create table empty_one (x int);`,
      {db: DB},
    )
    const mb = await runCtl(['runbook', 'mariadb-backup', inventory, '--yes', '--json'], {timeoutMs: 600_000})
    expect(mb.exitCode, mb.stdout + mb.stderr).toBe(0)
    maria = json(mb).summary.backup
    // Counted at backup time on a scratch copy of the prepared backup, written into it under its manifest.
    expect(json(mb).summary.rowCounts['ctl_test.rows']).toBe(galeraRows)
    expect(readFileSync(join(maria, 'ctl-rows.tsv'), 'utf8')).toContain(`ctl_test.rows\t${galeraRows}\n`)
    const pb = await runCtl(['runbook', 'pg-backup', inventory, '--db', DB, '--yes', '--json'])
    expect(pb.exitCode, pb.stdout + pb.stderr).toBe(0)
    dump = json(pb).summary.backup.file
  })
  afterAll(async () => {
    rmSync(MARIA_DIR, {recursive: true, force: true})
    rmSync(PG_DIR, {recursive: true, force: true})
    await psql(member(await ensureHealthy()).address, `drop database if exists ${DB} with (force)`).catch(() => undefined)
  })

  it('records the rows of every table of a pg_dump at backup time, from the archive; leaves no scratch directory', () => {
    expect(scratchDirs()).toEqual([])
    const record = JSON.parse(readFileSync(`${dump}.json`, 'utf8'))
    expect(record.rowCounts).toEqual({'public.items': 1234, 'public."Odd name"': 0, 'public.empty_one': 0})
  })

  it('without a drill the backups check fails (drillMaxAgeDays); --dry-run shows the drills and runs nothing', async () => {
    const check = await runCtl(['check', 'run', inventory, 'backups', '--json'])
    expect(check.exitCode, check.stdout).toBe(1)
    expect(check.stdout).toContain('no restore drill has passed')
    const dry = await runCtl(['backup', 'verify', inventory, '--dry-run', '--json'])
    expect(dry.exitCode, dry.stderr).toBe(0)
    expect(json(dry).drills.map((d: any) => [d.series, d.node, d.path])).toEqual([
      ['mariadb', 'h3', maria],
      [`postgres/${DB}`, 'h1', dump],
    ])
    expect(existsSync(`${maria}.verify.json`) || existsSync(`${dump}.verify.json`)).toBe(false)
  })

  it('drills the newest backup of each series: restored, started, every table read, the counts as recorded at backup time; recorded, listed, checked', async () => {
    const run = await runCtl(['backup', 'verify', inventory, '--json'], {timeoutMs: 600_000})
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    const results = json(run).results as any[]
    const mariaResult = results.find((r) => r.target.path === maria)
    expect(mariaResult.record).toMatchObject({outcome: 'passed', problems: [], counts: 'matched'})
    expect(mariaResult.record.rows).toBeGreaterThanOrEqual(galeraRows)
    const pgResult = results.find((r) => r.target.path === dump)
    expect(pgResult.record).toMatchObject({outcome: 'passed', problems: [], counts: 'matched', tables: 3, rows: 1234})
    expect(JSON.parse(readFileSync(`${dump}.verify.json`, 'utf8'))).toMatchObject({outcome: 'passed', path: dump})
    expect(scratchDirs()).toEqual([])

    const listed = json(await runCtl(['backup', 'list', inventory, '--json'])).restorePoints as any[]
    expect(listed.find((p) => p.path === maria).lastDrill).toMatchObject({outcome: 'passed'})
    const check = await runCtl(['check', 'run', inventory, 'backups', '--json'])
    expect(check.exitCode, check.stdout).toBe(0)
    expect(check.stdout).toMatch(/last passed drill \d+ min ago/)
  })

  it('a tampered backup fails its drill (mariabackup: a changed file; pg_dump: a changed byte, same size), recorded as failed', async () => {
    const ibd = join(maria, 'ctl_test', 'rows.ibd')
    appendFileSync(ibd, Buffer.alloc(16384, 1))
    const bytes = readFileSync(dump)
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff
    writeFileSync(dump, bytes)

    const run = await runCtl(['backup', 'verify', inventory], {timeoutMs: 600_000})
    expect(run.exitCode, run.stdout + run.stderr).toBe(1)
    expect(run.stdout).toMatch(new RegExp(`h3:${maria}: integrity failed: .*rows.ibd: FAILED`))
    expect(run.stdout).toMatch(/integrity failed: sha256 [0-9a-f]{64}, the record says/)
    expect(JSON.parse(readFileSync(`${dump}.verify.json`, 'utf8'))).toMatchObject({outcome: 'failed'})
    expect(scratchDirs()).toEqual([])
    const listed = await runCtl(['backup', 'list', inventory, '--database', 'mariadb'])
    expect(listed.stdout).toMatch(/FAILED \d{4}-\d\d-\d\d/)
    // An unfinished backup is refused: there is no record to check it against.
    const partial = join(MARIA_DIR, '20200101T000000')
    mkdirSync(partial)
    const refused = await runCtl(['backup', 'verify', inventory, '--path', partial])
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toContain('not a complete backup')
  })
})
