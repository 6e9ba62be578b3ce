import {describe, expect, it} from 'vitest'
import type {RestorePoint} from '../../../src/backups/restore-points.js'
import {chooseDrillTargets} from '../../../src/backups/verify-plan.js'

function point(series: string, day: number, extra: Partial<RestorePoint> = {}): RestorePoint {
  const database = series.startsWith('postgres') ? 'postgres' : 'mariadb'
  return {
    database,
    series,
    offsite: false,
    path: `/b/${series.replace('/', '-')}-${day}`,
    dir: '/b',
    nodes: ['h3', 'h1'],
    takenAt: `2026-12-${String(day).padStart(2, '0')}T00:00:00.000Z`,
    sizeBytes: 1,
    checksum: 'c'.repeat(64),
    complete: true,
    encrypted: false,
    ...extra,
  }
}

describe('which backups a restore drill takes', () => {
  it('the newest complete one of each series, on the first node that holds it; never an unfinished or damaged one', () => {
    const points = [
      point('mariadb', 1),
      point('mariadb', 3, {complete: false, checksum: undefined}),
      point('mariadb', 2),
      point('postgres/app', 4, {problem: 'size differs'}),
      point('postgres/app', 1),
    ]
    const targets = chooseDrillTargets(points, {env: 'prod'})
    expect(targets.map((t) => [t.point.path, t.node, t.recordPath])).toEqual([
      ['/b/mariadb-2', 'h3', '/b/mariadb-2.verify.json'],
      ['/b/postgres-app-1', 'h3', '/b/postgres-app-1.verify.json'],
    ])
    expect(targets[1]!.command).toContain(`[ "$got" = ${'c'.repeat(64)} ]`)
  })

  it('--path: that one, refused when it is not there or not complete (there is nothing to check it against)', () => {
    const points = [point('mariadb', 1), point('mariadb', 2, {complete: false})]
    expect(chooseDrillTargets(points, {env: 'prod', path: '/b/mariadb-1'}).map((t) => t.point.path)).toEqual(['/b/mariadb-1'])
    expect(() => chooseDrillTargets(points, {env: 'prod', path: '/b/nope'})).toThrow(/No restore point at \/b\/nope/)
    expect(() => chooseDrillTargets(points, {env: 'prod', path: '/b/mariadb-2'})).toThrow(/not a complete backup/)
  })

  it('--at: per pgBackRest series the newest good backup finished by then, recovered to that time; refused before the first or in the future', () => {
    const pg = (series: string, day: number, repo: number, extra: Partial<RestorePoint> = {}) =>
      point(series, day, {
        database: 'pgbackrest',
        pgbackrest: {
          config: '/etc/pgbackrest.conf',
          stanza: 's',
          osUser: 'postgres',
          repoPath: '/r',
          scratchDir: '/var/tmp',
          scratchPort: 55432,
          label: `2026120${day}-000000F`,
          pgVersion: '15',
          repo,
          stoppedAt: `2026-12-${String(day).padStart(2, '0')}T01:00:00.000Z`,
        },
        ...extra,
      })
    const points = [
      pg('pgbackrest/s', 1, 1),
      pg('pgbackrest/s', 3, 1),
      pg('pgbackrest/s@offsite', 2, 2),
      pg('pgbackrest/s', 2, 1, {problem: 'x'}),
      point('mariadb', 2),
    ]
    const now = new Date('2026-12-10T00:00:00Z')
    const targets = chooseDrillTargets(points, {env: 'prod', at: new Date('2026-12-02T12:00:00Z'), now, stamp: 'T'})
    expect(targets.map((t) => [t.point.series, t.point.pgbackrest!.label])).toEqual([
      ['pgbackrest/s', '20261201-000000F'],
      ['pgbackrest/s@offsite', '20261202-000000F'],
    ])
    expect(targets[0]!.command).toContain("--type=time '--target=2026-12-02 12:00:00.000+00' --target-action=promote")
    expect(targets[1]!.command).toContain('--repo=2')
    expect(() => chooseDrillTargets(points, {env: 'prod', at: new Date('2026-11-30T00:00:00Z'), now})).toThrow(/No pgBackRest backup had finished/)
    expect(() => chooseDrillTargets(points, {env: 'prod', at: new Date('2026-12-11T00:00:00Z'), now})).toThrow(/in the future/)
  })
})
