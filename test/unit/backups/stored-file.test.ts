import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {backupLocations, type BackupLocation} from '../../../src/backups/locations.js'
import {rabbitmqBackupScript, rabbitmqDrillScript} from '../../../src/backups/rabbitmq-definitions.js'
import {redisDrillScript} from '../../../src/backups/redis-rdb.js'
import {listRestorePointsCommand, parseRestorePoints, type RestorePoint} from '../../../src/backups/restore-points.js'
import {removeRestorePointCommand} from '../../../src/backups/retention.js'
import {planCronFiles} from '../../../src/backups/schedule.js'
import {parseStoreOutput, storeBackupScript, storedFileDrillScript, type StoredFileKind} from '../../../src/backups/stored-file.js'
import {chooseDrillTargets} from '../../../src/backups/verify-plan.js'
import {loadInventory} from '../../../src/inventory/load.js'
import {parseDrillOutput} from '../../../src/backups/drill.js'
import {quote, renderCommand} from '../../../src/lib/shell.js'
import {rabbitExportOrder} from '../../../src/rabbitmq/judge.js'
import type {RabbitNodeFacts} from '../../../src/rabbitmq/facts.js'
import {chooseRedisBackupSource} from '../../../src/redis/backup-source.js'
import type {RedisMemberFacts} from '../../../src/redis/facts.js'

const loaded = loadInventory(join(import.meta.dirname, '..', '..', '..', 'inventories', 'lab.yml'))

/** A component whose "scratch server" counts the lines of the file: the store and drill mechanics without Redis. */
const LINES: StoredFileKind = {
  component: 'redis',
  suffix: '.rdb',
  countScript: `[ -f "$1" ] || { printf 'start\\tfail\\tno file\\n'; exit 0; }; grep -q BROKEN "$1" && { printf 'start\\tfail\\tcannot load\\n'; exit 0; }; printf 'start\\tok\\nrows\\tdb0\\t%s\\ndone\\n' "$(wc -l < "$1")"`,
}

const sh = (script: string, input = '') => execFileSync('sh', ['-c', script], {input, encoding: 'utf8'})

describe('one-file backups (Redis RDB, RabbitMQ definitions): store, record, list, drill', () => {
  it('stores under a hidden name, then the file and its record with the counts and sha256; a failed count keeps nothing', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ctl-sf-')), "backups 'x'")
    const out = sh(storeBackupScript(LINES, dir, ['src=h2:6379', 'printf "a\\nb\\nc\\n" > "$tmp"']))
    const stored = parseStoreOutput(out)
    if ('failed' in stored) throw new Error(stored.failed.message)
    expect(stored.path).toMatch(new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\d{8}T\\d{6}\\.rdb$`))
    expect(stored.record).toMatchObject({component: 'redis', source: 'h2:6379', sizeBytes: 6, rowCounts: {db0: 3}})
    expect(stored.record.sha256).toBe(sh(`sha256sum < ${JSON.stringify(stored.path)} | cut -c1-64`).trim())
    expect(JSON.parse(readFileSync(`${stored.path}.json`, 'utf8'))).toEqual(stored.record)
    // Nothing hidden is left but the lock.
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual(['.ctl-backup.lock'])

    const failed = parseStoreOutput(sh(storeBackupScript(LINES, dir, ['src=h2', 'echo BROKEN > "$tmp"'])))
    expect(failed).toEqual({failed: {stage: 'count', message: 'start: cannot load'}})
    const empty = parseStoreOutput(sh(storeBackupScript(LINES, dir, ['src=h2', ': > "$tmp"'])))
    expect(empty).toEqual({failed: {stage: 'take', message: 'nothing was written'}})
    expect(readdirSync(dir).sort()).toEqual(['.ctl-backup.lock', stored.path.split('/').at(-1), `${stored.path.split('/').at(-1)}.json`].sort())
  })

  it('one backup at a time per directory: a second run while the first holds the lock stores nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-sf-lock-'))
    // flock(1) holds the directory's lock while the backup runs inside it.
    const out = sh(`flock ${quote(`${dir}/.ctl-backup.lock`)} sh -c ${quote(storeBackupScript(LINES, dir, ['printf x > "$tmp"']))}`)
    expect(parseStoreOutput(out)).toEqual({failed: {stage: 'store', message: expect.stringMatching(/another redis backup into .* is running/)}})
    expect(readdirSync(dir)).toEqual(['.ctl-backup.lock'])
  })

  it('lists them with their records, by component; a changed size is a problem; prune removes file, record and drill record only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-sf-list-'))
    const ok = parseStoreOutput(sh(storeBackupScript(LINES, dir, ['src=a', 'printf "1\\n2\\n" > "$tmp"'])))
    if ('failed' in ok) throw new Error('store failed')
    writeFileSync(join(dir, '20261201T000000.rdb'), 'no record')
    writeFileSync(join(dir, '20261202T000000.rdb'), 'grown')
    writeFileSync(
      join(dir, '20261202T000000.rdb.json'),
      JSON.stringify({component: 'redis', sha256: 'a'.repeat(64), sizeBytes: 1, startedAt: '2026-12-02T00:00:00Z'}),
    )
    writeFileSync(join(dir, '20261203T000000.rdb'), 'x')
    writeFileSync(join(dir, '20261203T000000.rdb.json'), JSON.stringify({component: 'rabbitmq', sha256: 'a'.repeat(64), sizeBytes: 1}))
    writeFileSync(join(dir, 'ctl-schedule.log'), 'not a backup')
    const location: BackupLocation = {database: 'redis', dir, nodes: ['h3'], runbook: 'redis-backup'}
    const {points} = parseRestorePoints('h3', sh(renderCommand(listRestorePointsCommand([location]))), [location])
    const byName = Object.fromEntries(points.map((p) => [p.path.split('/').at(-1), p]))
    expect(Object.keys(byName).sort()).toEqual(['20261201T000000.rdb', '20261202T000000.rdb', '20261203T000000.rdb', ok.path.split('/').at(-1)].sort())
    expect(byName[ok.path.split('/').at(-1)!]).toMatchObject({database: 'redis', series: 'redis', complete: true, checksum: ok.record.sha256, sizeBytes: 4})
    expect(byName['20261201T000000.rdb']).toMatchObject({complete: false, takenAt: '2026-12-01T00:00:00.000Z'})
    expect(byName['20261202T000000.rdb']!.problem).toMatch(/5 bytes, the record says 1/)
    // A record of another component is not this backup's record.
    expect(byName['20261203T000000.rdb']!.complete).toBe(false)
    const point = byName[ok.path.split('/').at(-1)!]!
    writeFileSync(`${point.path}.verify.json`, '{}')
    sh(renderCommand(removeRestorePointCommand(point)))
    expect(readdirSync(dir).filter((f) => f.startsWith(point.path.split('/').at(-1)!))).toEqual([])
    expect(existsSync(join(dir, '20261201T000000.rdb'))).toBe(true)
  })

  it('the drill checks the sha256 first, then counts in the scratch server; the verify plan picks the Redis and RabbitMQ drills', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-sf-drill-'))
    const ok = parseStoreOutput(sh(storeBackupScript(LINES, dir, ['printf "1\\n2\\n" > "$tmp"'])))
    if ('failed' in ok) throw new Error('store failed')
    expect(parseDrillOutput(sh(storedFileDrillScript(LINES, ok.path, ok.record.sha256)))).toMatchObject({
      integrity: true,
      started: true,
      rows: {db0: 2},
      finished: true,
    })
    writeFileSync(ok.path, '1\n2\n3\n')
    expect(parseDrillOutput(sh(storedFileDrillScript(LINES, ok.path, ok.record.sha256))).failed).toEqual({
      stage: 'integrity',
      message: expect.stringMatching(/^sha256 [0-9a-f]{64}, the record says [0-9a-f]{64}$/),
    })
    const redisPoint = {...point('redis', '/b/r/20261201T000000.rdb'), checksum: 'c'.repeat(64)}
    const rabbitPoint = {...point('rabbitmq', '/b/q/20261201T000000.definitions.json'), checksum: 'd'.repeat(64), serverBinDir: '/opt/rabbitmq/sbin'}
    const targets = chooseDrillTargets([redisPoint, rabbitPoint], {env: 'lab'})
    expect(targets.find((t) => t.point.database === 'redis')!.command).toBe(redisDrillScript('/b/r/20261201T000000.rdb', 'c'.repeat(64)))
    expect(targets.find((t) => t.point.database === 'rabbitmq')!.command).toBe(
      rabbitmqDrillScript('/b/q/20261201T000000.definitions.json', 'd'.repeat(64), '/opt/rabbitmq/sbin'),
    )
    expect(redisDrillScript('/b/r/x.rdb', 'c'.repeat(64))).toContain('redis-check-rdb /b/r/x.rdb')
    expect(rabbitmqDrillScript('/b/q/x', 'd', '/opt/rabbitmq/sbin')).toContain('bin=/opt/rabbitmq/sbin')
  })

  it("locations exist only where backupDir is set; the lab's are on h4", () => {
    const locations = backupLocations(loaded.inventory)
    expect(locations.filter((l) => l.database === 'redis' || l.database === 'rabbitmq')).toEqual([
      {database: 'redis', dir: '/var/lib/ctl-lab/h4/redis-backups', nodes: ['h4'], runbook: 'redis-backup'},
      {database: 'rabbitmq', dir: '/var/lib/ctl-lab/h4/rabbitmq-backups', nodes: ['h4'], runbook: 'rabbitmq-backup', serverBinDir: '/usr/lib/rabbitmq/bin'},
    ])
    const inv = structuredClone(loaded.inventory)
    delete inv.databases.redis!.backupDir
    delete inv.databases.rabbitmq!.backupNode
    const after = backupLocations(inv)
    expect(after.some((l) => l.database === 'redis')).toBe(false)
    expect(after.find((l) => l.database === 'rabbitmq')!.nodes).toEqual(['h1'])
    // A schedule that asks for a Redis job without a backupDir is refused.
    expect(() => planCronFiles(inv, 'lab')).toThrow(/redis jobs but the inventory has no databases.redis.backupDir/)
  })

  it('schedules both jobs on the backup node: every member a candidate, the Redis password only in the 0600 file', () => {
    const plan = planCronFiles(loaded.inventory, 'lab', {redis: 'S3cret-pw\n'}).find((p) => p.node === 'h4')!
    expect(plan.text).toContain(
      '40 2 * * * root mkdir -p /var/lib/ctl-lab/h4/redis-backups && /var/lib/ctl-lab/h4/cron/ctl-backups/redis-backup-lab.sh >> /var/lib/ctl-lab/h4/redis-backups/ctl-schedule.log 2>&1',
    )
    expect(plan.text).toContain(
      '45 2 * * * root mkdir -p /var/lib/ctl-lab/h4/rabbitmq-backups && /var/lib/ctl-lab/h4/cron/ctl-backups/rabbitmq-definitions-backup-lab.sh',
    )
    const file = (name: string) => plan.support!.find((f) => f.path.endsWith(name))!
    expect(file('redis-backup-lab.secrets')).toMatchObject({mode: '600', secret: true, text: 'S3cret-pw\n'})
    const redis = file('redis-backup-lab.sh')
    expect(redis.text).not.toContain('S3cret')
    expect(redis.text).toContain('sed -n 1p /var/lib/ctl-lab/h4/cron/ctl-backups/redis-backup-lab.secrets | sh -c')
    for (const address of ['198.18.0.11:6379', '198.18.0.12:6379', '198.18.0.13:6379']) expect(redis.text).toContain(address)
    const rabbit = file('rabbitmq-definitions-backup-lab.sh')
    expect(rabbit.text.match(/export_definitions -/g)).toHaveLength(3)
    expect(rabbit.text).toContain('/usr/lib/rabbitmq/bin/rabbitmqctl --longnames -n rabbit@198.18.0.11 export_definitions -')
    for (const f of [redis, rabbit]) expect(() => execFileSync('sh', ['-n'], {input: f.text})).not.toThrow()
    expect(() => execFileSync('sh', ['-n'], {input: rabbitmqBackupScript('/d', '/b', [{member: "x'y", argv: ['rabbitmqctl', '-n', "x'y"]}])})).not.toThrow()
  })
})

function point(database: 'redis' | 'rabbitmq', path: string): RestorePoint {
  return {
    database,
    series: database,
    path,
    dir: path.slice(0, path.lastIndexOf('/')),
    nodes: ['h3'],
    takenAt: '2026-12-01T00:00:00.000Z',
    sizeBytes: 10,
    complete: true,
    encrypted: false,
    offsite: false,
  }
}

describe('choosing where a backup is read from', () => {
  const member = (node: string, over: Partial<RedisMemberFacts>): RedisMemberFacts => ({
    node,
    address: `10.0.0.${node.slice(1)}`,
    port: 6379,
    replicas: [],
    sentinelMaster: {address: '10.0.0.1', port: 6379},
    ...over,
  })
  it('Redis: the linked replica of the master that lags least; the master only when none is linked; nothing when none answers', () => {
    const master = member('h1', {role: 'master', offset: 1000})
    const near = member('h3', {role: 'slave', linkUp: true, masterHost: '10.0.0.1', masterPort: 6379, offset: 990})
    const far = member('h2', {role: 'slave', linkUp: true, masterHost: '10.0.0.1', masterPort: 6379, offset: 100})
    expect(chooseRedisBackupSource([master, far, near])!.member.node).toBe('h3')
    expect(chooseRedisBackupSource([master, far, near])!.reason).toMatch(/10 bytes behind/)
    const unlinked = {...near, linkUp: false}
    expect(chooseRedisBackupSource([master, unlinked])).toMatchObject({member: {node: 'h1'}, reason: expect.stringMatching(/master h1 forks/)})
    expect(chooseRedisBackupSource([member('h1', {error: 'Could not connect'}), unlinked])).toBeUndefined()
  })

  it('RabbitMQ: running nodes, unpartitioned and seeing the most nodes first', () => {
    const node = (name: string, over: Partial<RabbitNodeFacts>): RabbitNodeFacts => ({
      node: name,
      nodeName: `rabbit@${name}`,
      running: true,
      runningNodes: [],
      diskNodes: [],
      partitions: {},
      alarms: [],
      ...over,
    })
    const order = rabbitExportOrder([
      node('h1', {partitions: {'rabbit@h1': ['rabbit@h2']}, runningNodes: ['a', 'b', 'c']}),
      node('h2', {runningNodes: ['a']}),
      node('h3', {runningNodes: ['a', 'b']}),
      node('h4', {running: false}),
    ])
    expect(order.map((f) => f.node)).toEqual(['h3', 'h2', 'h1'])
  })
})
