import {existsSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {labHost} from '../../packages/lab/src/types.js'
import {labControl} from '../../packages/lab/src/components/galera.js'
import {replicaPaths} from '../../packages/lab/src/components/backup-replica-files.js'
import {json, runCtl, type CliRun} from '../support/cli.js'
import {clusterUuid, members, prepareTable, rowsDigest, sql, sqlAt, waitFor, writeRows} from './support/galera.js'
import {labInventoryCopy} from './support/swarm.js'
import {SWARM_SIDE, expectStatusListsFirst, labStatus} from './support/status.js'

// Seed 000's backup replica: the lab's backup host h4 runs a real MariaDB async replica of Galera
// member h1. The oracle is the replica itself (SQL as root over its socket), not ctl: rows written on
// Galera arrive there; a stopped or delayed replica fails the galera-replica check and refuses to be
// backed up; backups taken from it hold the cluster's rows and pass a restore drill on h4.

const h4 = labHost(4)
const BACKUP_DIR = '/var/lib/ctl-lab/h4/galera-backups-replica-test'

const onReplica = (statement: string) => sqlAt(replicaPaths(h4).socket, statement)

const checkReplica = (inventory = 'lab') => runCtl(['check', 'run', inventory, 'galera-replica', '--json'])
const row = (run: CliRun) => json(run).results.find((r: {check: string}) => r.check === 'galera-replica')
const repair = async () => {
  const up = await runCtl(['lab', 'up', '--only', 'backup-replica', '--json'], {timeoutMs: 300_000})
  expect(up.exitCode, up.stdout + up.stderr).toBe(0)
}

/**
 * A replica seeded now, from the cluster as it is (lab up seeds one without a datadir): a restore of
 * the cluster to an older backup is not followed by its replica (mariadb-restore says to seed it again).
 */
async function reseed() {
  await labControl(h4, 'stop', [], replicaPaths(h4))
  rmSync(replicaPaths(h4).datadir, {recursive: true, force: true})
  await repair()
}

describe('the Galera backup replica on the backup host (lab)', () => {
  let inventory = ''
  let replicaBackup: {path: string; digest: string} | undefined

  beforeAll(async () => {
    rmSync(BACKUP_DIR, {recursive: true, force: true})
    // Backups from the replica: no backupNode, so the inventory's backupReplica is the backup node.
    inventory = labInventoryCopy((inv) => {
      delete inv.databases.galera.backupNode
      inv.databases.galera.backupDir = BACKUP_DIR
      inv.databases.galera.backupReplica.maxLagSeconds = 2
      delete inv.backups
      // MariaDB only: the pgBackRest repository is the pg tests' (on a fresh lab it is not set up yet).
      delete inv.databases.patroni.pgbackrest
    })
    await prepareTable()
    await reseed()
  })
  afterAll(async () => {
    rmSync(BACKUP_DIR, {recursive: true, force: true})
    // The last test restored the cluster to an older state, which the replica does not follow.
    await reseed()
  })

  it('replicates what Galera commits, and the check passes naming its source and GTID', async () => {
    await writeRows('h2', 'replica', 40)
    const onGalera = await sql('h1', 'SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*), MAX(id) FROM ctl_test.rows')
    await waitFor('the rows on the replica', async () => ((await onReplica('SELECT COUNT(*), MAX(id) FROM ctl_test.rows')) === onGalera ? true : undefined))
    expect(await onReplica('SELECT @@read_only, @@server_id')).toBe('1\t104')
    const run = await checkReplica()
    expect(run.exitCode, run.stdout).toBe(0)
    expect(row(run)).toMatchObject({
      target: 'h4',
      status: 'pass',
      detail: expect.stringMatching(/^replicating from 198\.18\.0\.11:3306, 0 s behind \(limit 60 s\), GTID \d+-\d+-\d+/),
    })
  })

  it('stopped: the check fails, a backup from it is refused before anything is copied; lab up restarts it', async () => {
    const {report: before} = await labStatus()
    const broke = await runCtl(['lab', 'break', 'backup-replica-stopped', '--yes', '--json'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    await expectStatusListsFirst(before, 'galera-replica', 'h4', SWARM_SIDE)
    const run = await checkReplica()
    expect(run.exitCode).toBe(1)
    expect(row(run)).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('replication from 198.18.0.11:3306 stopped: IO No, SQL No'),
      hint: expect.stringContaining('START SLAVE'),
    })
    const backup = await runCtl(['runbook', 'mariadb-backup', inventory, '--yes', '--json'], {timeoutMs: 300_000})
    expect(backup.exitCode, backup.stdout).toBe(2)
    expect(json(backup).error).toMatchObject({
      code: 'mariadb.replica-unfit',
      host: 'h4',
      step: 'check-member',
      message: expect.stringContaining('not fit to back up'),
    })
    expect(json(backup).error.hint).toContain('--node h1')
    expect(existsSync(BACKUP_DIR)).toBe(false)
    await repair()
    expect((await checkReplica()).exitCode).toBe(0)
  })

  it('lagging beyond its limit: the check fails with the lag; lab up removes the delay', async () => {
    const {report: before} = await labStatus(inventory)
    const broke = await runCtl(['lab', 'break', 'backup-replica-lag', '--yes', '--json'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    await writeRows('h1', 'lag', 1)
    // Seconds_Behind_Master grows from the held-back write on; the copy's limit is 2 s.
    const failed = await waitFor('the lag over 2 s', async () => {
      const run = await checkReplica(inventory)
      return run.exitCode === 1 ? run : undefined
    })
    expect(row(failed)).toMatchObject({status: 'fail', detail: expect.stringMatching(/\d+ s behind \(limit 2 s\), MASTER_DELAY 3600 s/)})
    await expectStatusListsFirst(before, 'galera-replica', 'h4', SWARM_SIDE, inventory)
    await repair()
    expect((await checkReplica(inventory)).exitCode).toBe(0)
  })

  it('mariadb-backup runs on the replica: its GTID position, the rows Galera committed, a drill on h4 that passes', async () => {
    await writeRows('h3', 'before-backup', 25)
    const committed = Number(await sql('h1', 'SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*) FROM ctl_test.rows'))
    await waitFor('the replica caught up', async () => (Number(await onReplica('SELECT COUNT(*) FROM ctl_test.rows')) === committed ? true : undefined))
    const backup = await runCtl(['runbook', 'mariadb-backup', inventory, '--yes', '--json'], {timeoutMs: 600_000})
    expect(backup.exitCode, backup.stdout + backup.stderr).toBe(0)
    const summary = json(backup).summary
    expect(summary.node).toBe('h4')
    expect(summary.backup.startsWith(`${BACKUP_DIR}/`)).toBe(true)
    expect(summary.replicaGtid).toMatch(/^\d+-\d+-\d+/)
    expect(summary.position).toBeUndefined()
    expect(summary.rowCounts['ctl_test.rows']).toBe(committed)
    // The replica's SQL thread runs again after --safe-slave-backup paused it.
    expect(await onReplica("SHOW GLOBAL STATUS LIKE 'Slave_running'")).toBe('Slave_running\tON')
    const drill = await runCtl(['backup', 'verify', inventory, '--path', summary.backup, '--json'], {timeoutMs: 600_000})
    expect(drill.exitCode, drill.stdout + drill.stderr).toBe(0)
    const result = json(drill).results[0]
    expect(result.target).toMatchObject({node: 'h4', path: summary.backup})
    expect(result.record).toMatchObject({outcome: 'passed', problems: [], counts: 'matched'})
    expect(readFileSync(join(summary.backup, 'ctl-rows.tsv'), 'utf8')).toContain(`ctl_test.rows\t${committed}\n`)
    replicaBackup = {path: summary.backup, digest: await rowsDigest('h1')}
  })

  it("restores the whole cluster from the replica's backup: a new cluster history with exactly the backed-up rows", async () => {
    expect(replicaBackup).toBeDefined()
    const {path, digest} = replicaBackup!
    await writeRows('h1', 'after-backup', 7)
    expect(await rowsDigest('h1')).not.toBe(digest)
    const before = await clusterUuid()
    // Not onto the replica: a restore bootstraps the cluster from a member.
    const refused = await runCtl(['runbook', 'mariadb-restore', inventory, '--from', path, '--yes', '--json'])
    expect(refused.exitCode).toBe(2)
    expect(json(refused)).toMatchObject({error: 'mariadb.restore-on-replica', hint: expect.stringContaining('--node h1')})
    // The lab's hosts share one filesystem: the backup on h4 is at the same path on h1 (elsewhere: copy it).
    const restore = await runCtl(['runbook', 'mariadb-restore', inventory, '--node', 'h1', '--from', path, '--yes', '--json'], {timeoutMs: 600_000})
    expect(restore.exitCode, restore.stdout + restore.stderr).toBe(0)
    const result = json(restore)
    expect(result.summary.replicaGtid).toMatch(/^\d+-\d+-\d+/)
    expect(result.summary.position).toBeUndefined()
    const after = await clusterUuid()
    expect(after).not.toBe(before)
    for (const m of members) expect(await rowsDigest(m), m).toBe(digest)
    expect(result.steps.find((step: any) => step.id === 'verify').report.join('\n')).toContain(
      'The backup replica on h4 still holds the data from before the restore',
    )
  })
})
