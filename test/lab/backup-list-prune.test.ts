import {createHash} from 'node:crypto'
import {appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, projectRoot, runCtl} from '../support/cli.js'
import {ensureHealthy} from './support/patroni.js'
import {labInventoryCopy} from './support/swarm.js'

// ctl backup list and prune against real mariabackup and pg_dump backups of the lab's clusters, in
// backup directories of their own (an inventory copy), so other tests' backups are never pruned.
// The lab's hosts share one filesystem: what the hosts write is checked here on the local disk.

const MARIA_DIR = '/var/lib/ctl-lab/h3/galera-backups-prune-test'
const PG_DIR = '/var/lib/ctl-lab/backups/postgres-prune-test'
const ARCHIVE = `${MARIA_DIR}/.ctl-binlogs/h3`
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

function inventoryWith(edit: (inv: any) => void = () => undefined): string {
  return labInventoryCopy((inv) => {
    for (const cluster of [inv.databases.galera, inv.databases.patroni]) cluster.password = cluster.password.replace('file:../', `file:${projectRoot}/`)
    inv.databases.galera.backupDir = MARIA_DIR
    inv.databases.patroni.backupDir = PG_DIR
    // These tests count the backup directories' restore points; the pgBackRest repository is test/lab/pg-pitr.test.ts's.
    delete inv.databases.patroni.pgbackrest
    // Redis's and RabbitMQ's are test/lab/redis-backups.test.ts's and rabbitmq-backups.test.ts's.
    delete inv.databases.redis.backupDir
    delete inv.databases.rabbitmq.backupDir
    inv.backups = {keep: {mariadb: 1, postgres: 1}}
    edit(inv)
  })
}

describe('ctl backup list / prune (lab)', () => {
  let inventory = ''
  const maria: string[] = []
  const pg: string[] = []

  beforeAll(async () => {
    rmSync(MARIA_DIR, {recursive: true, force: true})
    rmSync(PG_DIR, {recursive: true, force: true})
    inventory = inventoryWith()
    await ensureHealthy()
    for (let i = 0; i < 2; i++) {
      const run = await runCtl(['runbook', 'mariadb-backup', inventory, '--yes', '--json'], {timeoutMs: 600_000})
      expect(run.exitCode, run.stdout + run.stderr).toBe(0)
      maria.push(json(run).summary.backup)
      // The binary logs archived after each backup (each run closes the current file): retention trims them too.
      const archived = await runCtl(['runbook', 'mariadb-binlog-archive', inventory, '--yes', '--json'])
      expect(archived.exitCode, archived.stdout + archived.stderr).toBe(0)
    }
    for (let i = 0; i < 3; i++) {
      const run = await runCtl(['runbook', 'pg-backup', inventory, '--db', 'postgres', '--yes', '--json'])
      expect(run.exitCode, run.stdout + run.stderr).toBe(0)
      pg.push(json(run).summary.backup.file)
    }
    // A backup ctl never finished (no manifest): older than both, by its name.
    mkdirSync(join(MARIA_DIR, '20200101T000000'))
  })
  afterAll(() => {
    rmSync(MARIA_DIR, {recursive: true, force: true})
    rmSync(PG_DIR, {recursive: true, force: true})
  })

  it('lists every restore point with its time, size, checksum and where it is; a tampered dump fails the list', async () => {
    const listed = await runCtl(['backup', 'list', inventory, '--json'])
    expect(listed.exitCode, listed.stderr).toBe(0)
    const points = json(listed).restorePoints as any[]
    expect(points.map((p) => p.path).sort()).toEqual([...maria, join(MARIA_DIR, '20200101T000000'), ...pg].sort())
    for (const file of pg) {
      const point = points.find((p) => p.path === file)
      // The lab's hosts share the directory: one restore point seen from every member.
      expect(point).toMatchObject({series: 'postgres/postgres', complete: true, encrypted: false, nodes: ['h1', 'h2', 'h3'], checksum: sha256(file)})
    }
    const newestMaria = points.find((p) => p.path === maria[1])
    expect(newestMaria).toMatchObject({series: 'mariadb', complete: true, nodes: ['h3']})
    expect(newestMaria.checksum).toBe(sha256(join(maria[1]!, 'ctl-manifest.sha256')))
    expect(points.find((p) => p.path.endsWith('20200101T000000'))).toMatchObject({complete: false})
    // Newest first.
    expect(points.filter((p) => p.series === 'postgres/postgres').map((p) => p.path)).toEqual([...pg].reverse())

    appendFileSync(pg[2]!, 'tampered')
    const tampered = await runCtl(['backup', 'list', inventory, '--database', 'postgres'])
    expect(tampered.exitCode).toBe(1)
    expect(tampered.stdout).toMatch(/the record says/)
  })

  it('prune: refused without --yes and shown by --dry-run, changing nothing; then keeps what the inventory says and never a damaged or unfinished one', async () => {
    const everything = [...maria, join(MARIA_DIR, '20200101T000000'), ...pg]
    const refused = await runCtl(['backup', 'prune', inventory])
    expect(refused.exitCode).toBe(2)
    const dry = await runCtl(['backup', 'prune', inventory, '--dry-run', '--json'])
    expect(dry.exitCode, dry.stderr).toBe(0)
    const plan = Object.fromEntries((json(dry).series as any[]).map((s) => [s.series, s]))
    // The newest dump is damaged (the test above): the newest good one is kept, the oldest removed.
    expect(plan['postgres/postgres']).toMatchObject({keep: 1, kept: [pg[1]], remove: [pg[0]], leftAlone: [pg[2]]})
    expect(plan.mariadb).toMatchObject({keep: 1, kept: [maria[1]], remove: [maria[0]], leftAlone: [join(MARIA_DIR, '20200101T000000')]})
    expect(everything.every((p) => existsSync(p))).toBe(true)

    // The archive keeps the file the kept backup starts from and every later one; the older ones go.
    const keepFrom = readFileSync(join(maria[1]!, 'xtrabackup_binlog_info'), 'utf8').split('\t')[0]!
    const seq = (name: string) => Number(name.split('.').pop())
    const before = readdirSync(ARCHIVE)
    expect(json(dry).archive).toMatchObject({node: 'h3', dir: ARCHIVE, keepFrom})
    expect(json(dry).archive.remove).toEqual(before.filter((f) => seq(f) < seq(keepFrom)))
    expect(json(dry).archive.remove.length).toBeGreaterThan(0)
    expect(readdirSync(ARCHIVE)).toEqual(before)

    const pruned = await runCtl(['backup', 'prune', inventory, '--yes', '--json'])
    expect(pruned.exitCode, pruned.stderr).toBe(0)
    const removed = (json(pruned).removed as string[]).map((r) => r.split(':')[1]!)
    expect(removed.filter((r) => !r.startsWith(ARCHIVE)).sort()).toEqual([maria[0], pg[0]].sort())
    expect(readdirSync(ARCHIVE).sort()).toEqual(before.filter((f) => seq(f) >= seq(keepFrom)).sort())
    expect(readdirSync(ARCHIVE)).toContain(keepFrom)
    expect(existsSync(maria[0]!) || existsSync(pg[0]!) || existsSync(`${pg[0]}.json`)).toBe(false)
    expect([maria[1], join(MARIA_DIR, '20200101T000000'), pg[1], pg[2]].every((p) => existsSync(p!))).toBe(true)

    const again = await runCtl(['backup', 'prune', inventory, '--yes', '--json'])
    expect(again.exitCode).toBe(0)
    expect(json(again).removed).toEqual([])
    expect(json(again).archive.remove).toEqual([])
  })

  it('refuses to prune when a node holding backups cannot be listed, naming it', async () => {
    const unreachable = inventoryWith((inv) => {
      inv.ssh.connectTimeoutMs = 1500
      inv.nodes.find((n: any) => n.name === 'h2').address = '198.18.0.254'
    })
    const run = await runCtl(['backup', 'prune', unreachable, '--database', 'postgres', '--yes'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/Cannot list the backups on h2/)
    expect(existsSync(pg[1]!)).toBe(true)
  })
})
