import {execa} from 'execa'
import {existsSync, readdirSync, readFileSync, renameSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {expectDrillIntegrityFails, withFlippedByte} from './support/tamper.js'
import {control, ensureHealthy, member, members, psql, waitFor, WRITE_ENDPOINT} from './support/patroni.js'

// pgBackRest's offsite repository (repo2 in the lab's S3 storage): a backup goes there encrypted, WAL is
// archived to both repositories, and after the whole cluster is down and the repository node's own
// repository is gone, a restore from the offsite repository alone brings back every committed row.

const DB = 'ctl_lab_offsite'
const REPO = '/var/lib/ctl-lab/h4/pgbackrest/repo'
const LOST = `${REPO}.lost-by-test`
const OFFSITE_OBJECTS = join(import.meta.dirname, '..', '..', '.lab', 'offsite-s3', 'ctl-backups', 'pgbackrest')

const write = (from: number, to: number) =>
  psql(WRITE_ENDPOINT.host, `insert into rows_kept select generate_series(${from}, ${to})`, {db: DB, port: WRITE_ENDPOINT.port})

describe('pgBackRest offsite repository (S3): restore with the cluster and the local repository gone', () => {
  const removals: string[] = []
  let stopOrder: string[] = []

  beforeAll(async () => {
    const leader = member(await ensureHealthy()).address
    await psql(leader, `drop database if exists ${DB} with (force)`)
    await psql(leader, `create database ${DB}`)
    await psql(leader, 'create table rows_kept (id int primary key)', {db: DB})
  })

  afterAll(async () => {
    for (const command of removals) await execa('sh', ['-c', command], {reject: false})
    if (existsSync(LOST)) renameSync(LOST, REPO)
    // The leader (stopped last) first: it leads again, on its timeline.
    for (const name of [...stopOrder].reverse()) await control(name, 'start')
    const leader = member(await ensureHealthy()).address
    await psql(leader, `drop database if exists ${DB} with (force)`)
  }, 300_000)

  it('sets up both repositories, backs up into the offsite one (encrypted) and lists it as offsite', async () => {
    const setup = await runCtl(['runbook', 'pgbackrest-setup', 'lab', '--yes', '--json'])
    expect(setup.exitCode, JSON.stringify(json(setup).error)).toBe(0)
    await write(1, 100)
    const run = await runCtl(['runbook', 'pgbackrest-backup', 'lab', '--repo', 'offsite', '--yes', '--json'])
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    expect(result.summary).toMatchObject({repo: 2, verified: {ok: true}})
    const label = result.summary.backup.label
    // The objects are in the S3 storage, and what pgBackRest wrote there is ciphertext (OpenSSL's salted format), not its text manifest.
    expect(readdirSync(`${OFFSITE_OBJECTS}/backup/ctl-lab`)).toContain(label)
    const manifest = readFileSync(`${OFFSITE_OBJECTS}/backup/ctl-lab/${label}/backup.manifest._S3rver_object`)
    expect(manifest.subarray(0, 8).toString('latin1')).toBe('Salted__')
    expect(manifest.includes('[backrest]')).toBe(false)
    const list = json(await runCtl(['backup', 'list', 'lab', '--database', 'pgbackrest', '--json'])).restorePoints
    expect(list.find((p: {path: string}) => p.path.endsWith(`/${label}`))).toMatchObject({
      series: 'pgbackrest/ctl-lab@offsite',
      path: `s3://ctl-backups/pgbackrest/backup/ctl-lab/${label}`,
      offsite: true,
      encrypted: true,
      complete: true,
    })
  })

  it('finds a tampered object in the offsite repository: the restore drill fails its integrity stage', async () => {
    const list = json(await runCtl(['backup', 'list', 'lab', '--database', 'pgbackrest', '--json'])).restorePoints
    const newest = list.find((p: {series: string}) => p.series === 'pgbackrest/ctl-lab@offsite')
    // template0's files (base/4) are never copied again by a later backup: this backup's own object.
    const base = `${OFFSITE_OBJECTS}/backup/ctl-lab/${newest.pgbackrest.label}/pg_data/base/4`
    const file = join(
      base,
      readdirSync(base).find((f) => f.endsWith('._S3rver_object') && statSync(join(base, f)).size > 4096)!,
    )
    await withFlippedByte(file, () => expectDrillIntegrityFails(newest.path))
    const again = await runCtl(['backup', 'verify', 'lab', '--path', newest.path, '--json'])
    expect(again.exitCode, again.stdout).toBe(0)
    expect(json(again).results[0].record.tables).toBeGreaterThan(0)
  })

  it('after the whole cluster stops and the repository node loses its repository, restores every archived row from S3 alone', async () => {
    await write(101, 150)
    const leaderName = await ensureHealthy()
    const leader = member(leaderName).address
    const segment = await psql(leader, 'select pg_walfile_name(pg_switch_wal())')
    await waitFor('the last segment archived', async () =>
      (await psql(leader, "select coalesce(last_archived_wal, '') from pg_stat_archiver")) >= segment ? true : undefined,
    )
    // Replicas first, the leader last: no replica is promoted on the way down (a promotion here would
    // fork a timeline the leader, started first again, forks a second time, and archiving would refuse it).
    stopOrder = [...members.map((m) => m.name).filter((n) => n !== leaderName), leaderName]
    for (const name of stopOrder) await control(name, 'stop')
    renameSync(REPO, LOST)
    const run = await runCtl(['runbook', 'pg-pitr', 'lab', '--at', 'latest', '--repo', 'offsite', '--yes', '--json'])
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    removals.push(result.summary.scratch.remove)
    expect(result.summary.rows[`${DB}.public.rows_kept`]).toBe(150)
  }, 300_000)
})
