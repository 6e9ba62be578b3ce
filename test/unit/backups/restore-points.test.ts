import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync, utimesSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {BackupLocation} from '../../../src/backups/locations.js'
import {drillRecordPath} from '../../../src/backups/drill.js'
import {listRestorePointsCommand, mergeRestorePoints, parseRestorePoints} from '../../../src/backups/restore-points.js'
import {renderCommand} from '../../../src/lib/shell.js'

const location = (database: BackupLocation['database'], dir: string): BackupLocation => ({database, dir, nodes: ['h1'], runbook: 'x'})

/** The listing command run by a local sh over real directories: what a node would answer. */
function listLocally(locations: BackupLocation[]): string {
  return execFileSync('sh', ['-c', renderCommand(listRestorePointsCommand(locations))], {encoding: 'utf8'})
}

describe('restore points: the listing command and its parser', () => {
  it('lists mariabackup directories (complete with a manifest) and pg_dump files (complete with a record), by their own times', () => {
    const root = mkdtempSync(join(tmpdir(), 'ctl-rp-'))
    const maria = join(root, "maria dir 'x'")
    const pg = join(root, 'pg')
    mkdirSync(join(maria, '20261201T101500'), {recursive: true})
    writeFileSync(join(maria, '20261201T101500', 'ibdata1'), 'x'.repeat(100))
    writeFileSync(join(maria, '20261201T101500', 'ctl-manifest.sha256'), 'abc  ./ibdata1\n')
    mkdirSync(join(maria, '20261202T101500'))
    mkdirSync(pg)
    writeFileSync(join(pg, 'ctl-lab-app-20261201T090000.dump'), 'y'.repeat(42))
    const record = {database: 'app', sha256: 'f'.repeat(64), sizeBytes: 42, startedAt: '2026-12-01T09:00:00.123Z'}
    writeFileSync(join(pg, 'ctl-lab-app-20261201T090000.dump.json'), JSON.stringify(record))
    const drill = {verifiedAt: '2026-12-03T00:00:00.000Z', outcome: 'passed', problems: [], tables: 3}
    writeFileSync(join(pg, 'ctl-lab-app-20261201T090000.dump.verify.json'), JSON.stringify(drill))
    writeFileSync(join(maria, '20261201T101500.verify.json'), JSON.stringify({...drill, outcome: 'failed', problems: ['start failed: x']}))
    writeFileSync(join(pg, 'ctl-lab-app-20261202T090000.dump'), 'z'.repeat(10))
    writeFileSync(join(pg, 'ctl-lab-app-20261202T090000.dump.partial'), 'z')
    utimesSync(join(pg, 'ctl-lab-app-20261202T090000.dump'), 1_800_000_000, 1_800_000_000)
    const locations = [location('mariadb', maria), location('postgres', pg), location('postgres', join(root, 'none'))]

    const {points, missingDirs} = parseRestorePoints('h1', listLocally(locations.slice(0, 2)), locations.slice(0, 2))
    expect(missingDirs).toEqual([])
    const byPath = Object.fromEntries(points.map((p) => [p.path.slice(root.length + 1), p]))
    expect(Object.keys(byPath).sort()).toEqual([
      "maria dir 'x'/20261201T101500",
      "maria dir 'x'/20261202T101500",
      'pg/ctl-lab-app-20261201T090000.dump',
      'pg/ctl-lab-app-20261202T090000.dump',
    ])
    const done = byPath["maria dir 'x'/20261201T101500"]!
    expect(done).toMatchObject({series: 'mariadb', complete: true, takenAt: '2026-12-01T10:15:00.000Z', encrypted: false, nodes: ['h1']})
    // The drill record next to each backup: its last restore drill.
    expect(done.lastDrill).toEqual({verifiedAt: '2026-12-03T00:00:00.000Z', outcome: 'failed', problems: ['start failed: x']})
    expect(byPath['pg/ctl-lab-app-20261201T090000.dump']!.lastDrill).toMatchObject({outcome: 'passed'})
    expect(byPath['pg/ctl-lab-app-20261202T090000.dump']!.lastDrill).toBeUndefined()
    expect(done.checksum).toBe(execFileSync('sh', ['-c', 'printf "abc  ./ibdata1\\n" | sha256sum | cut -c1-64'], {encoding: 'utf8'}).trim())
    expect(done.sizeBytes).toBeGreaterThan(100)
    expect(byPath["maria dir 'x'/20261202T101500"]).toMatchObject({complete: false, checksum: undefined})
    expect(byPath['pg/ctl-lab-app-20261201T090000.dump']).toMatchObject({
      series: 'postgres/app',
      complete: true,
      checksum: record.sha256,
      sizeBytes: 42,
      takenAt: record.startedAt,
    })
    expect(byPath['pg/ctl-lab-app-20261201T090000.dump']!.problem).toBeUndefined()
    // No record: incomplete; its time from its name, not the file's.
    expect(byPath['pg/ctl-lab-app-20261202T090000.dump']).toMatchObject({series: 'postgres/unknown', complete: false, takenAt: '2026-12-02T09:00:00.000Z'})

    expect(parseRestorePoints('h1', listLocally([locations[2]!]), [locations[2]!]).missingDirs).toEqual([join(root, 'none')])
  })

  it('marks a dump whose size differs from its record, and never takes a line outside the location', () => {
    const record = Buffer.from(JSON.stringify({database: 'app', sha256: 'a'.repeat(64), sizeBytes: 500})).toString('base64')
    const out = [
      `point\tpostgres\t1800000000\t499\t${record}\t-\t/b/pg/x.dump`,
      `point\tpostgres\t1800000000\t1\t-\t-\t/etc/passwd`,
      'garbage',
      `point\tmariadb\t1\t2\t-\t-\t/b/m/y`,
    ].join('\n')
    const {points} = parseRestorePoints('h2', out, [location('postgres', '/b/pg')])
    expect(points).toHaveLength(1)
    expect(points[0]!.problem).toMatch(/499 bytes, the record says 500/)
  })

  it('merges a path seen alike on several nodes (a shared directory), newest first', () => {
    const point = (node: string, path: string, takenAt: string, sizeBytes = 1) => ({
      ...parseRestorePoints(node, `point\tmariadb\t1\t${sizeBytes}\t-\t-\t${path}`, [location('mariadb', '/b')]).points[0]!,
      takenAt,
    })
    const merged = mergeRestorePoints([
      [point('h1', '/b/1', '2026-12-01T00:00:00.000Z'), point('h1', '/b/2', '2026-12-02T00:00:00.000Z')],
      [point('h2', '/b/1', '2026-12-01T00:00:00.000Z'), point('h2', '/b/2', '2026-12-02T00:00:00.000Z', 7)],
    ])
    expect(merged.map((p) => [p.path, p.nodes, p.sizeBytes])).toEqual([
      ['/b/2', ['h1'], 1],
      ['/b/2', ['h2'], 7],
      ['/b/1', ['h1', 'h2'], 1],
    ])
  })
})

describe('restore points of a pgBackRest repository', () => {
  const repo: BackupLocation = {
    database: 'pgbackrest',
    dir: '/srv/pgbackrest/backup/pg',
    nodes: ['backup1'],
    runbook: 'pgbackrest-backup',
    pgbackrest: {
      config: '/etc/pgbackrest/pgbackrest.conf',
      stanza: 'pg',
      osUser: 'postgres',
      repoPath: '/srv/pgbackrest',
      scratchDir: '/var/tmp',
      scratchPort: 55432,
    },
  }
  const info = (backups: object[], extra: object = {}) =>
    Buffer.from(
      JSON.stringify([{name: 'pg', cipher: 'aes-256-cbc', status: {code: 0, message: 'ok'}, db: [{version: '15'}], backup: backups, ...extra}]),
    ).toString('base64')
  const backup = (label: string, stop: number, error = false) => ({
    label,
    type: 'full',
    error,
    timestamp: {start: stop - 5, stop},
    info: {size: 1000, repository: {size: 300}},
  })

  it('asks pgBackRest itself, as the PostgreSQL user, with the node’s config', () => {
    expect(renderCommand(listRestorePointsCommand([repo]))).toContain(
      'if r=$(timeout -k 2 10 runuser -u postgres -- pgbackrest --config=/etc/pgbackrest/pgbackrest.conf --stanza=pg --output=json info 2>&1); then',
    )
    // A repository whose storage does not answer bounds this listing, not the node's whole facts command.
    expect(renderCommand(listRestorePointsCommand([repo]))).toContain(
      "else [ $? -eq 124 ] && r='pgbackrest info gave no answer within 10 s (is the storage of a repository down?)'; printf 'pgbackrest-error",
    )
  })

  it('lists every backup with its time, size in the repository and encryption; a failed one is damaged', () => {
    const out = `pgbackrest\tpgbackrest\t${info([backup('20261201-000000F', 1_796_000_000), backup('20261202-000000F', 1_796_086_400, true)])}\n`
    const {points, missingDirs} = parseRestorePoints('backup1', out, [repo])
    expect(missingDirs).toEqual([])
    expect(points).toEqual([
      {
        database: 'pgbackrest',
        series: 'pgbackrest/pg',
        path: '/srv/pgbackrest/backup/pg/20261201-000000F',
        dir: '/srv/pgbackrest/backup/pg',
        nodes: ['backup1'],
        takenAt: new Date((1_796_000_000 - 5) * 1000).toISOString(),
        sizeBytes: 300,
        complete: true,
        encrypted: true,
        offsite: false,
        pgbackrest: {...repo.pgbackrest, label: '20261201-000000F', pgVersion: '15', repo: 1, stoppedAt: new Date(1_796_000_000 * 1000).toISOString()},
      },
      expect.objectContaining({path: '/srv/pgbackrest/backup/pg/20261202-000000F', complete: false, problem: 'pgBackRest marks this backup as failed'}),
    ])
  })

  it("reads ctl's drill records kept beside the repository, by label", () => {
    const drill = Buffer.from(JSON.stringify({verifiedAt: '2026-12-03T00:00:00.000Z', outcome: 'passed', problems: []})).toString('base64')
    const out = `pgbackrest\tpgbackrest\t${info([backup('20261201-000000F', 1_796_000_000)])}\npgdrill\tpgbackrest\t20261201-000000F\t${drill}\npgdrill\tpgbackrest\tgone-F\t${drill}\n`
    const [point] = parseRestorePoints('backup1', out, [repo]).points
    expect(point!.lastDrill).toEqual({verifiedAt: '2026-12-03T00:00:00.000Z', outcome: 'passed', problems: []})
    expect(drillRecordPath(point!)).toBe('/srv/pgbackrest/ctl-drills/20261201-000000F.verify.json')
    expect(renderCommand(listRestorePointsCommand([repo]))).toContain('for f in /srv/pgbackrest/ctl-drills/*.verify.json; do')
  })

  it('lists an offsite (repo2) backup under its S3 address, its own series and encryption, with its drill record kept apart', () => {
    const offsiteRepo: BackupLocation = {...repo, pgbackrest: {...repo.pgbackrest!, offsite: 's3://bk/pgbackrest'}}
    const drill = Buffer.from(JSON.stringify({verifiedAt: '2026-12-03T00:00:00.000Z', outcome: 'failed', problems: ['x']})).toString('base64')
    const local = {...backup('20261201-000000F', 1_796_000_000), database: {id: 1, 'repo-key': 1}}
    const far = {...backup('20261201-000000F', 1_796_000_000), database: {id: 1, 'repo-key': 2}}
    const repos = {
      repo: [
        {key: 1, cipher: 'none'},
        {key: 2, cipher: 'aes-256-cbc'},
      ],
      cipher: 'mixed',
    }
    const out = `pgbackrest\tpgbackrest\t${info([local, far], repos)}\npgdrill\tpgbackrest\trepo2-20261201-000000F\t${drill}\n`
    const [a, b] = parseRestorePoints('backup1', out, [offsiteRepo]).points
    expect(a).toMatchObject({series: 'pgbackrest/pg', offsite: false, encrypted: false, path: '/srv/pgbackrest/backup/pg/20261201-000000F'})
    expect(a!.lastDrill).toBeUndefined()
    expect(b).toMatchObject({series: 'pgbackrest/pg@offsite', offsite: true, encrypted: true, path: 's3://bk/pgbackrest/backup/pg/20261201-000000F'})
    expect(b!.lastDrill?.outcome).toBe('failed')
    expect(drillRecordPath(b!)).toBe('/srv/pgbackrest/ctl-drills/repo2-20261201-000000F.verify.json')
  })

  it('takes a stanza that does not exist yet as a missing directory, and a failing pgbackrest as an error naming the node', () => {
    expect(
      parseRestorePoints('backup1', `pgbackrest\tpgbackrest\t${info([], {status: {code: 1, message: 'missing stanza path'}})}\n`, [repo]).missingDirs,
    ).toEqual([repo.dir])
    expect(() => parseRestorePoints('backup1', 'pgbackrest-error\tpgbackrest\tERROR: [055]: unable to load info file\n', [repo])).toThrow(
      /pgbackrest info failed: ERROR: \[055\]/,
    )
  })
})
