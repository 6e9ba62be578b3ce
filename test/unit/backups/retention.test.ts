import {describe, expect, it} from 'vitest'
import type {RestorePoint} from '../../../src/backups/restore-points.js'
import {planRetention, removeRestorePointCommand} from '../../../src/backups/retention.js'
import {renderCommand} from '../../../src/lib/shell.js'

function point(series: string, day: number, extra: Partial<RestorePoint> = {}): RestorePoint {
  const database = series.startsWith('postgres') ? 'postgres' : 'mariadb'
  return {
    database,
    series,
    offsite: false,
    path: `/b/${series.replace('/', '-')}-${day}`,
    dir: '/b',
    nodes: ['h3'],
    takenAt: `2026-12-${String(day).padStart(2, '0')}T00:00:00.000Z`,
    sizeBytes: 1,
    checksum: 'a'.repeat(64),
    complete: true,
    encrypted: false,
    ...extra,
  }
}

describe('retention', () => {
  it('keeps the newest N of each series and removes the rest oldest first; each PostgreSQL database counts on its own', () => {
    const points = [1, 5, 3, 2, 4].map((d) => point('mariadb', d)).concat([point('postgres/app', 1), point('postgres/app', 2), point('postgres/other', 1)])
    const plans = planRetention(points, (p) => (p.database === 'mariadb' ? 2 : 1))
    const bySeries = Object.fromEntries(plans.map((p) => [p.series, p]))
    expect(bySeries.mariadb!.kept.map((p) => p.takenAt.slice(8, 10))).toEqual(['05', '04'])
    expect(bySeries.mariadb!.remove.map((p) => p.takenAt.slice(8, 10))).toEqual(['01', '02', '03'])
    expect(bySeries['postgres/app']!.remove.map((p) => p.path)).toEqual(['/b/postgres-app-1'])
    expect(bySeries['postgres/other']!.remove).toEqual([])
  })

  it('never counts or removes an incomplete or damaged backup: a damaged newest one does not push out the last good one', () => {
    const plans = planRetention(
      [point('mariadb', 1), point('mariadb', 2, {complete: false, checksum: undefined}), point('mariadb', 3, {problem: 'size differs'})],
      () => 1,
    )
    expect(plans[0]!.kept.map((p) => p.path)).toEqual(['/b/mariadb-1'])
    expect(plans[0]!.remove).toEqual([])
    expect(plans[0]!.leftAlone.map((p) => p.path).sort()).toEqual(['/b/mariadb-2', '/b/mariadb-3'])
  })

  it('always keeps the newest backup a restore drill passed, beyond keep; a failed drill protects nothing', () => {
    const passed = {lastDrill: {verifiedAt: '2026-12-06T00:00:00.000Z', outcome: 'passed' as const, problems: []}}
    const failed = {lastDrill: {verifiedAt: '2026-12-06T00:00:00.000Z', outcome: 'failed' as const, problems: ['start failed']}}
    const plans = planRetention([point('mariadb', 1, passed), point('mariadb', 2, passed), point('mariadb', 3, failed), point('mariadb', 4)], () => 1)
    expect(plans[0]!.kept.map((p) => p.path)).toEqual(['/b/mariadb-4', '/b/mariadb-2'])
    expect(plans[0]!.remove.map((p) => p.path)).toEqual(['/b/mariadb-1', '/b/mariadb-3'])
  })

  it('refuses to keep fewer than one', () => {
    expect(() => planRetention([point('mariadb', 1)], () => 0)).toThrow(/at least one/)
  })

  it('removes only what is still a complete backup directly in its location, quoted', () => {
    expect(renderCommand(removeRestorePointCommand(point('mariadb', 1, {path: "/b/x y';rm -rf /"})))).toBe(
      `test -f '/b/x y'\\'';rm -rf //ctl-manifest.sha256' && rm -rf -- '/b/x y'\\'';rm -rf /' '/b/x y'\\'';rm -rf /.verify.json'`,
    )
    expect(renderCommand(removeRestorePointCommand(point('postgres/app', 1, {path: '/b/a.dump'})))).toBe(
      'test -f /b/a.dump.json && rm -f -- /b/a.dump /b/a.dump.json /b/a.dump.verify.json',
    )
    expect(() => removeRestorePointCommand(point('mariadb', 1, {path: '/b/../etc'}))).toThrow(/not an entry/)
    expect(() => removeRestorePointCommand(point('mariadb', 1, {path: '/etc/x'}))).toThrow(/not an entry/)
  })
})
