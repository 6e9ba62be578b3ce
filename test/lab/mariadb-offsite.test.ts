import {execa} from 'execa'
import {existsSync, readdirSync, renameSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {inventoryVariant, prepareTable, sql, writeRows} from './support/galera.js'
import {labInventoryCopy} from './support/swarm.js'
import {expectDrillIntegrityFails, withFlippedByte} from './support/tamper.js'

// mariabackup backups shipped offsite with restic (the lab's S3 storage): encrypted before they leave
// the backup node, listed with the local ones, drilled from S3 alone after the local copy is gone;
// a wrong key and a tampered object are both caught.

const RESTIC_OBJECTS = join(import.meta.dirname, '..', '..', '.lab', 'offsite-s3', 'ctl-backups', 'restic', 'mariadb')
const LAB_DIR = join(import.meta.dirname, '..', '..', '.lab')
const token = `offsite-token-${Date.now()}`

/** Every object file restic wrote under `dir` of the repository (its packs, with their S3 metadata files beside them). */
const objects = (dir: string) =>
  readdirSync(join(RESTIC_OBJECTS, dir), {recursive: true})
    .map(String)
    .filter((f) => f.endsWith('._S3rver_object'))
    .map((f) => join(RESTIC_OBJECTS, dir, f))

describe('mariabackup offsite with restic (S3)', () => {
  let backup = {dir: '', address: '', rows: 0}
  const moved: string[] = []

  beforeAll(async () => {
    await prepareTable()
    await writeRows('h1', token, 50)
    backup.rows = Number(await sql('h1', 'SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*) FROM ctl_test.rows;'))
  })

  afterAll(() => {
    for (const dir of moved) if (existsSync(`${dir}.lost`)) renameSync(`${dir}.lost`, dir)
  })

  it('ships the backup encrypted: the S3 objects never hold what the backup holds in the clear', async () => {
    const run = await runCtl(['runbook', 'mariadb-backup', 'lab', '--yes', '--json'])
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    expect(result.summary.offsite).toMatchObject({where: 's3://ctl-backups/restic/mariadb'})
    expect(result.summary.offsite.snapshot).toMatch(/^[0-9a-f]{8,}$/)
    backup = {...backup, dir: result.summary.backup}
    // The local backup holds the rows' text in its InnoDB pages; restic's packs in S3 do not.
    const inClear = await execa('grep', ['-rlF', token, backup.dir], {reject: false})
    expect(inClear.stdout).not.toBe('')
    const offsite = await execa('grep', ['-rlF', token, RESTIC_OBJECTS], {reject: false})
    expect(offsite.stdout).toBe('')
    const list = json(await runCtl(['backup', 'list', 'lab', '--database', 'mariadb', '--json'])).restorePoints
    const shipped = list.find((p: {series: string; checksum?: string}) => p.series === 'mariadb@offsite' && p.checksum === result.summary.checksum)
    expect(shipped).toMatchObject({offsite: true, encrypted: true, complete: true, sizeBytes: result.summary.sizeBytes})
    expect(shipped.path).toMatch(/^s3:\/\/ctl-backups\/restic\/mariadb#[0-9a-f]{8}$/)
    backup.address = shipped.path
  })

  it('drills the offsite copy with the local one gone: every row back, recorded with the snapshot', async () => {
    renameSync(backup.dir, `${backup.dir}.lost`)
    moved.push(backup.dir)
    const drill = await runCtl(['backup', 'verify', 'lab', '--path', backup.address, '--json'])
    const result = json(drill)
    expect(drill.exitCode, JSON.stringify(result)).toBe(0)
    // Counted against the counts the backup recorded when it was taken (ctl-rows.tsv inside it).
    expect(result.results[0].record).toMatchObject({outcome: 'passed', counts: 'matched'})
    expect(result.results[0].record.rows).toBeGreaterThanOrEqual(backup.rows)
    expect(readdirSync('/var/tmp').filter((d) => d.startsWith('ctl-offsite-'))).toEqual([])
    const list = json(await runCtl(['backup', 'list', 'lab', '--database', 'mariadb', '--json'])).restorePoints
    expect(list.find((p: {path: string}) => p.path === backup.address).lastDrill.outcome).toBe('passed')
  })

  it('fails with a clear error naming the key when the key is wrong, and changes nothing', async () => {
    const inventory = inventoryVariant('lab', (inv) => {
      inv.backups.offsite.s3.accessKeyId = `file:${join(LAB_DIR, 'offsite-access-key')}`
      inv.backups.offsite.s3.secretAccessKey = `file:${join(LAB_DIR, 'offsite-secret-key')}`
      inv.backups.offsite.encryptionKey = 'env:CTL_TEST_WRONG_OFFSITE_KEY'
      inv.databases.patroni.password = `file:${join(LAB_DIR, 'patroni-superuser.password')}`
      inv.databases.patroni.pgbackrest.cipherPass = `file:${join(LAB_DIR, 'pgbackrest-cipher.password')}`
      inv.vault.keysFile = join(LAB_DIR, 'vault-keys.json')
      inv.registries[0].password = `file:${join(LAB_DIR, 'registry-password')}`
      inv.stacks = []
      inv.services = []
    })
    const run = await runCtl(['backup', 'verify', inventory, '--path', backup.address, '--json'], {env: {CTL_TEST_WRONG_OFFSITE_KEY: 'not-the-key'}})
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout + run.stderr).toMatch(/encryptionKey is not the key/)
    expect(run.stdout + run.stderr).not.toContain('not-the-key')
  })

  it('applies retention to the offsite copies: the newest ones and the last drilled one stay, the rest are forgotten in the repository', async () => {
    const run1 = await runCtl(['runbook', 'mariadb-backup', 'lab', '--yes', '--json'])
    expect(run1.exitCode, run1.stderr).toBe(0)
    const inventory = labInventoryCopy((inv) => {
      inv.backups.keep = {mariadb: 1, postgres: 30}
    })
    const prune = await runCtl(['backup', 'prune', inventory, '--database', 'mariadb', '--yes', '--json'])
    const result = json(prune)
    expect(prune.exitCode, JSON.stringify(result)).toBe(0)
    const plan = result.series.find((s: {series: string}) => s.series === 'mariadb@offsite')
    // keep 1: the newest, and the one the drill passed (an older one) as well.
    expect(plan.kept).toEqual(expect.arrayContaining([backup.address]))
    expect(plan.kept.length).toBe(2)
    const after = json(await runCtl(['backup', 'list', 'lab', '--database', 'mariadb', '--json'])).restorePoints
    const offsite = after.filter((p: {series: string}) => p.series === 'mariadb@offsite').map((p: {path: string}) => p.path)
    expect(offsite.sort()).toEqual([...plan.kept].sort())
    for (const gone of plan.remove) expect(offsite).not.toContain(gone)
  })

  it('catches a tampered object in the repository: the drill fails its integrity stage', async () => {
    const packs = objects('data').sort((a, b) => statSync(b).size - statSync(a).size)
    const file = packs[0]!
    await withFlippedByte(file, () => expectDrillIntegrityFails(backup.address))
    expect(readdirSync('/var/tmp').filter((d) => d.startsWith('ctl-offsite-'))).toEqual([])
  })
})
