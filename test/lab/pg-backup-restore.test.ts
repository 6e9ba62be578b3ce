import {copyFileSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createServer, type AddressInfo} from 'node:net'
import {dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {ensureHealthy, member, psql} from './support/patroni.js'

// pg-backup then pg-restore into a new database returns the same rows; --replace without a
// confirmation (no terminal, no --yes) is refused and changes nothing.

const DB = 'ctl_lab_shop'
const leaderAddress = async () => member(await ensureHealthy()).address

/** Every row of every table, as one checksum (independent of the runbook's own checks). */
const CONTENT_SQL = `select md5(string_agg(t, '|' order by t)) from (
  select 'c' || c::text as t from customers c union all select 'o' || o::text from orders o) x`

const mode = (path: string) => statSync(path).mode & 0o777

async function databases(): Promise<string[]> {
  return (await psql(await leaderAddress(), 'select datname from pg_database order by 1')).split('\n')
}

describe('runbooks pg-backup and pg-restore', () => {
  let file = ''
  let content = ''

  beforeAll(async () => {
    const address = await leaderAddress()
    await psql(address, `drop database if exists ${DB} with (force)`)
    await psql(address, `create database ${DB}`)
    await psql(
      address,
      `create table customers (id serial primary key, name text not null unique);
       create table orders (id bigint generated always as identity primary key, customer_id int references customers(id), total numeric(10,2));
       create index orders_total on orders(total);
       create view big_orders as select * from orders where total > 100;
       insert into customers(name) select 'customer ' || g from generate_series(1, 200) g;
       insert into orders(customer_id, total) select (g % 200) + 1, g / 7.0 from generate_series(1, 20000) g;`,
      {db: DB},
    )
    content = await psql(address, CONTENT_SQL, {db: DB})
    // The bulk insert's WAL reaches both replicas before the backup picks one (within maxLagBytes,
    // 1 MiB): on a loaded machine they can be seconds behind, and the runbook rightly takes the leader.
    for (let i = 0; i < 120; i++) {
      const [replicas = '0', lag = ''] = (
        await psql(address, 'select count(*), coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0) from pg_stat_replication')
      ).split('|')
      if (Number(replicas) === 2 && Number(lag) < 65_536) break
      await sleep(500)
    }
  })

  afterAll(async () => {
    const address = await leaderAddress()
    for (const db of (await databases()).filter((d) => d.startsWith(DB))) await psql(address, `drop database if exists "${db}" with (force)`)
  })

  it('backs up from a streaming replica with size, checksum and timeline/LSN', async () => {
    const run = await runCtl(['runbook', 'pg-backup', 'lab', '--db', DB, '--yes', '--json'])
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    const backup = result.summary.backup
    expect(result.summary.source.role).toBe('replica')
    expect(backup).toMatchObject({database: DB, sourceRole: 'replica', scope: 'ctl-lab'})
    expect(backup.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(backup.sizeBytes).toBeGreaterThan(100_000)
    expect(backup.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/)
    expect(backup.timeline).toBeGreaterThan(0)
    expect(result.summary.archive).toMatchObject({TABLE: 2, 'TABLE DATA': 2, VIEW: 1, INDEX: 1, 'FK CONSTRAINT': 1})
    file = backup.file
    // A dump holds every row: owner-only, like the keys file (the lab hosts share this filesystem).
    expect(mode(file)).toBe(0o600)
    expect(mode(`${file}.json`)).toBe(0o600)
    expect(mode(dirname(file))).toBe(0o700)
  })

  it('refuses a --db that is libpq connection settings, before connecting anywhere', async () => {
    // A listener where the hostile "name" points: libpq would connect here and send the password.
    const connections: string[] = []
    const trap = createServer((socket) => {
      connections.push(String(socket.remoteAddress))
      socket.destroy()
    })
    await new Promise<void>((resolve) => trap.listen(0, '198.18.0.1', resolve))
    const port = (trap.address() as AddressInfo).port
    try {
      const before = await databases()
      const db = `host=198.18.0.1 port=${port} dbname=${DB}`
      const run = await runCtl(['runbook', 'pg-restore', 'lab', '--from', file, '--db', db, '--yes', '--json'])
      expect(run.exitCode, run.stdout + run.stderr).toBe(2)
      // Refused in setup: no run journal, no step, no SSH command (the error is the command's own).
      expect(json(run)).toMatchObject({
        error: 'pg.database-name',
        exitCode: 2,
        message: `Database name ${JSON.stringify(db)} (--db) is refused: connection settings ("="), not a name`,
      })
      const backup = await runCtl(['runbook', 'pg-backup', 'lab', '--db', db, '--yes', '--json'])
      expect(backup.exitCode, backup.stdout + backup.stderr).toBe(2)
      expect(json(backup).error).toBe('pg.database-name')
      expect(await databases()).toEqual(before)
      expect(connections).toEqual([])
    } finally {
      trap.close()
    }
  })

  it('refuses a tampered backup record whose database name is connection settings, and changes nothing', async () => {
    const address = await leaderAddress()
    const tampered = join(dirname(file), `tampered-${Date.now()}.dump`)
    copyFileSync(file, tampered)
    const record = JSON.parse(readFileSync(`${file}.json`, 'utf8'))
    // sha256 still matches the file: only the name is hostile ("dbname=<db>" would restore into the live <db>).
    writeFileSync(`${tampered}.json`, JSON.stringify({...record, file: tampered, database: `dbname=${DB}`}))
    try {
      const before = {dbs: await databases(), content: await psql(address, CONTENT_SQL, {db: DB})}
      const run = await runCtl(['runbook', 'pg-restore', 'lab', '--from', tampered, '--replace', '--yes', '--json'])
      const result = json(run)
      expect(run.exitCode, run.stdout + run.stderr).toBe(2)
      expect(result.error.code).toBe('pg.database-name')
      expect(result.steps.filter((s: {status: string}) => s.status === 'done').map((s: {id: string}) => s.id)).toEqual([])
      expect(result.error.message).toContain(`Database name "dbname=${DB}" (the database named by`)
      expect({dbs: await databases(), content: await psql(address, CONTENT_SQL, {db: DB})}).toEqual(before)
    } finally {
      rmSync(tampered, {force: true})
      rmSync(`${tampered}.json`, {force: true})
    }
  })

  it('restores into a new database with the same rows, verified against pg_restore --list', async () => {
    const run = await runCtl(['runbook', 'pg-restore', 'lab', '--from', file.split('/').pop()!, '--db', `${DB}_copy`, '--yes', '--json'])
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    expect(result.summary.database).toBe(`${DB}_copy`)
    expect(result.summary.comparison.every((c: {same: boolean}) => c.same)).toBe(true)
    expect(result.summary.rows).toMatchObject({'public.customers': 200, 'public.orders': 20000})
    expect(await psql(await leaderAddress(), CONTENT_SQL, {db: `${DB}_copy`})).toBe(content)
  })

  it('refuses to restore over an existing database without --replace', async () => {
    const run = await runCtl(['runbook', 'pg-restore', 'lab', '--from', file, '--db', DB, '--yes', '--json'])
    expect(run.exitCode).toBe(2)
    expect(json(run).error.message).toContain(`Database ${DB} already exists`)
  })

  it('--replace without a confirmation (no terminal, no --yes) is refused and nothing changes', async () => {
    const address = await leaderAddress()
    await psql(address, 'delete from orders where id > 100', {db: DB})
    const before = {dbs: await databases(), content: await psql(address, CONTENT_SQL, {db: DB})}
    const run = await runCtl(['runbook', 'pg-restore', 'lab', '--from', file, '--db', DB, '--replace', '--json'])
    const result = json(run)
    expect(run.exitCode).toBe(2)
    expect(result.outcome).toBe('stopped')
    expect(result.error.message).toContain(`Replace database "${DB}"`)
    expect({dbs: await databases(), content: await psql(address, CONTENT_SQL, {db: DB})}).toEqual(before)
  })

  it('--replace --yes puts the backup in place and keeps the old database', async () => {
    const run = await runCtl(['runbook', 'pg-restore', 'lab', '--from', file, '--db', DB, '--replace', '--yes', '--json'])
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    expect(await psql(await leaderAddress(), CONTENT_SQL, {db: DB})).toBe(content)
    expect(await databases()).toContain(result.summary.replaced.keptAs)
  })
})
