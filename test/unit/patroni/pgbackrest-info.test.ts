import {describe, expect, it} from 'vitest'
import {chooseRestoreBackup, parsePgbackrestInfo, parseRestoreTime, parseVerifyOutput} from '../../../src/patroni/pgbackrest-info.js'

// `pgbackrest info --output=json` as 2.45 prints it (trimmed): one full and one incremental backup.
const INFO = [
  {
    archive: [{database: {id: 1, 'repo-key': 1}, id: '15-1', max: '000000020000000000000010', min: '000000020000000000000006'}],
    backup: [
      {
        archive: {start: '000000020000000000000007', stop: '000000020000000000000008'},
        error: false,
        info: {delta: 23325261, repository: {delta: 3128288, size: 3128288}, size: 23325261},
        label: '20261206-031811F',
        lsn: {start: '0/7000028', stop: '0/8000050'},
        prior: null,
        timestamp: {start: 1796527091, stop: 1796527094},
        type: 'full',
      },
      {
        archive: {start: '000000020000000000000010', stop: '000000020000000000000010'},
        error: false,
        info: {size: 23400000, repository: {size: 3150000}},
        label: '20261206-031811F_20261206-032207I',
        prior: '20261206-031811F',
        timestamp: {start: 1796527327, stop: 1796527330},
        type: 'incr',
      },
    ],
    cipher: 'aes-256-cbc',
    db: [{id: 1, 'repo-key': 1, 'system-id': 7716024529, version: '15'}],
    name: 'ctl-lab',
    status: {code: 0, message: 'ok'},
  },
]

const info = parsePgbackrestInfo(INFO, 'ctl-lab')!

describe('pgbackrest info', () => {
  it('reads backups, the archive range, the cipher and the server version', () => {
    expect(info.cipher).toBe('aes-256-cbc')
    expect(info.pgVersion).toBe('15')
    expect(info.archive).toEqual({min: '000000020000000000000006', max: '000000020000000000000010'})
    expect(info.backups[0]).toMatchObject({
      label: '20261206-031811F',
      type: 'full',
      stoppedAt: '2026-12-06T03:18:14.000Z',
      sizeBytes: 23325261,
      repoSizeBytes: 3128288,
      walStop: '000000020000000000000008',
    })
    expect(info.backups[1]).toMatchObject({type: 'incr', prior: '20261206-031811F'})
  })

  it('takes only labels and versions shaped as pgBackRest writes them (they reach paths and commands)', () => {
    const [entry] = INFO
    const odd = parsePgbackrestInfo(
      [{...entry, db: [{version: "15'; reboot"}], backup: [...entry!.backup, {...entry!.backup[0], label: '$(reboot)F'}]}],
      'ctl-lab',
    )!
    expect(odd.pgVersion).toBeUndefined()
    expect(odd.backups.map((b) => b.label)).toEqual(['20261206-031811F', '20261206-031811F_20261206-032207I'])
  })

  it('is undefined for another stanza or output that is not a list', () => {
    expect(parsePgbackrestInfo(INFO, 'other')).toBeUndefined()
    expect(parsePgbackrestInfo({}, 'ctl-lab')).toBeUndefined()
  })
})

describe('choosing the backup of a point-in-time restore', () => {
  const now = new Date('2026-12-06T04:00:00Z')

  it('takes the newest good backup that finished before the target', () => {
    const early = chooseRestoreBackup(info, new Date('2026-12-06T03:20:00Z'), now)
    expect(early).toMatchObject({ok: true, backup: {label: '20261206-031811F'}, target: '2026-12-06T03:20:00.000Z'})
    const late = chooseRestoreBackup(info, new Date('2026-12-06T03:30:00Z'), now)
    expect(late).toMatchObject({ok: true, backup: {label: '20261206-031811F_20261206-032207I'}})
  })

  it("takes the newest good backup for 'latest' (everything archived)", () => {
    expect(chooseRestoreBackup(info, 'latest', now)).toMatchObject({ok: true, backup: {label: '20261206-031811F_20261206-032207I'}, target: 'latest'})
    expect(chooseRestoreBackup({...info, backups: []}, 'latest', now)).toMatchObject({ok: false, code: 'pgbackrest.no-backup'})
  })

  it('skips a backup marked as failed', () => {
    const failed = {...info, backups: info.backups.map((b) => (b.type === 'incr' ? {...b, error: true} : b))}
    expect(chooseRestoreBackup(failed, new Date('2026-12-06T03:30:00Z'), now)).toMatchObject({ok: true, backup: {label: '20261206-031811F'}})
  })

  it('refuses a time before the oldest backup finished, naming the earliest reachable time', () => {
    const choice = chooseRestoreBackup(info, new Date('2026-12-06T03:18:13Z'), now)
    expect(choice).toMatchObject({ok: false, code: 'pgbackrest.target-too-old'})
    expect(choice.ok || choice.hint).toContain('2026-12-06T03:18:14.000Z')
  })

  it('refuses a future time and an empty repository', () => {
    expect(chooseRestoreBackup(info, new Date('2026-12-06T05:00:00Z'), now)).toMatchObject({ok: false, code: 'pgbackrest.future-target'})
    expect(chooseRestoreBackup({...info, backups: []}, new Date('2026-12-06T03:30:00Z'), now)).toMatchObject({ok: false, code: 'pgbackrest.no-backup'})
    expect(chooseRestoreBackup(undefined, new Date('2026-12-06T03:30:00Z'), now)).toMatchObject({ok: false, code: 'pgbackrest.no-backup'})
  })
})

describe('restore times as operators type them', () => {
  it('reads ISO 8601 with a zone and the "date time" form', () => {
    expect(parseRestoreTime('2026-12-01T10:42:00Z')?.toISOString()).toBe('2026-12-01T10:42:00.000Z')
    expect(parseRestoreTime('2026-12-01 10:42:00+01:00')?.toISOString()).toBe('2026-12-01T09:42:00.000Z')
    expect(parseRestoreTime('2026-12-01 10:42:00.123456+0130')?.toISOString()).toBe('2026-12-01T09:12:00.123Z')
    expect(parseRestoreTime('2026-12-01 10:42-05')?.toISOString()).toBe('2026-12-01T15:42:00.000Z')
  })

  it('takes a time without a zone as local time', () => {
    expect(parseRestoreTime('2026-12-01 10:42:00')?.getTime()).toBe(new Date(2026, 11, 1, 10, 42, 0).getTime())
  })

  it('refuses anything else, including shell text and impossible dates', () => {
    for (const bad of ['yesterday', '2026-12-01', "2026-12-01 10:42:00'; drop table x", '2026-02-30 10:00:00', '2026-13-01T00:00:00Z', ''])
      expect(parseRestoreTime(bad), bad).toBeUndefined()
  })
})

describe('pgbackrest verify', () => {
  it('is good only with "status: ok"', () => {
    const ok =
      'stanza: ctl-lab\nstatus: ok\n  archiveId: 15-1, total WAL checked: 5, total valid WAL: 5\n    missing: 0, checksum invalid: 0, size invalid: 0, other: 0\n  backup: 20261206-031811F, status: valid, total files checked: 970, total valid files: 970\n    missing: 0, checksum invalid: 0, size invalid: 0, other: 0\n'
    expect(parseVerifyOutput(ok)).toEqual({ok: true, problems: []})
  })

  it('names the invalid backup and what is wrong with it', () => {
    const bad =
      'stanza: ctl-lab\nstatus: error\n  archiveId: 15-1, total WAL checked: 5, total valid WAL: 5\n    missing: 0, checksum invalid: 0, size invalid: 0, other: 0\n  backup: 20261206-031811F, status: invalid, total files checked: 970, total valid files: 969\n    missing: 0, checksum invalid: 1, size invalid: 0, other: 0\n'
    expect(parseVerifyOutput(bad)).toEqual({
      ok: false,
      problems: [
        'backup: 20261206-031811F, status: invalid, total files checked: 970, total valid files: 969',
        'missing: 0, checksum invalid: 1, size invalid: 0, other: 0',
      ],
    })
  })

  it('fails on a missing stanza and on no output at all', () => {
    expect(parseVerifyOutput('stanza: x\nstatus: error\n  No usable backup.info file\n')).toEqual({ok: false, problems: ['No usable backup.info file']})
    expect(parseVerifyOutput('')).toEqual({ok: false, problems: ['pgbackrest verify printed no status']})
  })
})
