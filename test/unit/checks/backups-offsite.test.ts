import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {backupsOffsiteCheck, judgeOffsite} from '../../../src/checks/all/backups-offsite.js'
import {loadInventory} from '../../../src/inventory/load.js'
import type {RestorePoint} from '../../../src/backups/restore-points.js'

const loaded = loadInventory(join(import.meta.dirname, '..', '..', '..', 'inventories', 'lab.yml'))
const now = Date.parse('2026-12-07T12:00:00Z')
const point = (takenAt: string, extra: Partial<RestorePoint> = {}): RestorePoint => ({
  database: 'mariadb',
  series: 'mariadb@offsite',
  path: `s3://b/restic/mariadb#${takenAt.slice(11, 13)}`,
  dir: 's3://b/restic/mariadb',
  nodes: ['h3'],
  takenAt,
  sizeBytes: 1,
  complete: true,
  encrypted: true,
  offsite: true,
  ...extra,
})

describe('backups-offsite check', () => {
  it('applies to each database with offsite copies, and to none without backups.offsite', () => {
    expect(backupsOffsiteCheck.targets(loaded.inventory)).toEqual([{name: 'mariadb'}, {name: 'pgbackrest'}])
    expect(backupsOffsiteCheck.targets({...loaded.inventory, backups: {...loaded.inventory.backups, offsite: undefined}})).toEqual([])
  })

  it('passes on an offsite copy younger than the RPO; local copies and unfinished ones do not count', () => {
    const points = [
      point('2026-12-07T11:00:00.000Z', {offsite: false, path: '/local/newest'}),
      point('2026-12-07T10:30:00.000Z', {complete: false}),
      point('2026-12-07T09:00:00.000Z'),
      point('2026-12-05T09:00:00.000Z'),
    ]
    expect(judgeOffsite('lab', 'mariadb', points, now, 24)).toEqual({
      status: 'pass',
      detail: 'newest offsite s3://b/restic/mariadb#09, 3.0 h old (offsite RPO 24 h)',
    })
    const stale = judgeOffsite('lab', 'mariadb', points, now, 2)
    expect(stale).toMatchObject({status: 'fail', detail: 'newest offsite s3://b/restic/mariadb#09, 3.0 h old (offsite RPO 2 h)'})
    expect(stale.hint).toContain('ctl runbook mariadb-backup lab')
  })

  it('fails with none offsite, naming how to ship one', () => {
    const none = judgeOffsite('lab', 'pgbackrest', [point('2026-12-07T11:00:00.000Z', {offsite: false})], now, 24)
    expect(none).toMatchObject({status: 'fail', detail: 'no complete pgbackrest backup offsite'})
    expect(none.hint).toContain('ctl runbook pgbackrest-backup lab --repo offsite')
  })
})
