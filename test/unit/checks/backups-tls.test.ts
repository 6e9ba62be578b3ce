import {describe, expect, it} from 'vitest'
import {backupLocations} from '../../../src/backups/locations.js'
import {judgeBackups, newestBackupScript, parseNewestBackup} from '../../../src/checks/all/backups.js'
import {judgeCertificate} from '../../../src/checks/all/tls-expiry.js'
import {inventorySchema} from '../../../src/inventory/schema/index.js'

const inventory = inventorySchema.parse({
  name: 'prod',
  nodes: [
    {name: 'db1', address: '10.0.0.1'},
    {name: 'db2', address: '10.0.0.2'},
  ],
  databases: {
    galera: {
      members: [
        {node: 'db1', control: {kind: 'systemd', unit: 'mariadb'}},
        {node: 'db2', control: {kind: 'systemd', unit: 'mariadb'}},
      ],
      backupNode: 'db2',
    },
    patroni: {
      scope: 'pg',
      members: [
        {node: 'db1', name: 'pg1'},
        {node: 'db2', name: 'pg2'},
      ],
    },
  },
})

describe('backups', () => {
  it("looks on the backup node, else on every member, in the runbooks' directories", () => {
    expect(backupLocations(inventory)).toEqual([
      {database: 'mariadb', dir: '/var/backups/ctl/mariadb', nodes: ['db2'], runbook: 'mariadb-backup'},
      {database: 'postgres', dir: '/var/backups/ctl/postgres', nodes: ['db1', 'db2'], runbook: 'pg-backup'},
    ])
  })
  it('adds the pgBackRest repository, on its node, when the inventory has one', () => {
    const withRepo = inventorySchema.parse({
      ...inventory,
      databases: {...inventory.databases, patroni: {...inventory.databases.patroni, pgbackrest: {repoNode: 'db2', repoPath: '/srv/pgbackrest'}}},
    })
    expect(backupLocations(withRepo)[2]).toEqual({
      database: 'pgbackrest',
      dir: '/srv/pgbackrest/backup/pg',
      nodes: ['db2'],
      runbook: 'pgbackrest-backup',
      pgbackrest: {
        config: '/etc/pgbackrest/pgbackrest.conf',
        stanza: 'pg',
        osUser: 'postgres',
        repoPath: '/srv/pgbackrest',
        scratchDir: '/var/tmp',
        scratchPort: 55432,
      },
    })
  })
  it("finds the newest complete backup, aged by the node's own clock; a failed run's leftovers never count", () => {
    const [mariadb, postgres] = backupLocations(inventory)
    expect(newestBackupScript(mariadb!).script).toMatch(/^date \+%s; if \[ -d \/var\/backups\/ctl\/mariadb \]; then for p in/)
    const dir = '/var/backups/ctl/mariadb'
    const sum = 'a'.repeat(64)
    // 2023-11-14T22:13:20Z is 1700000000.
    const out = [
      '1700000000',
      `point\tmariadb\t1699990000\t10\t${sum}\t-\t${dir}/20231114T211320`,
      `point\tmariadb\t1699999000\t10\t-\t-\t${dir}/20231114T215000`,
    ].join('\n')
    expect(parseNewestBackup('db2', out, mariadb!)).toEqual({node: 'db2', ageSeconds: 3600, path: `${dir}/20231114T211320`, ignored: 1})
    expect(parseNewestBackup('db2', `1700000000\npoint\tmariadb\t1699999000\t10\t-\t-\t${dir}/20231114T215000`, mariadb!)).toEqual({node: 'db2', ignored: 1})
    expect(parseNewestBackup('db2', `1700000000\nnodir\tmariadb\t${dir}\n`, mariadb!)).toEqual({node: 'db2', missingDir: true})
    expect(parseNewestBackup('db2', '1700000000\n', mariadb!)).toEqual({node: 'db2'})
    expect(parseNewestBackup('db2', 'not a clock\n', mariadb!)).toBeUndefined()
    // A dump whose size is not its record's does not count either.
    const record = (size: number) =>
      Buffer.from(JSON.stringify({database: 'app', sha256: sum, sizeBytes: size, startedAt: '2023-11-14T21:13:20.000Z'})).toString('base64')
    const dumps = `1700000000\npoint\tpostgres\t1699990000\t99\t${record(100)}\t-\t/var/backups/ctl/postgres/a.dump`
    expect(parseNewestBackup('db1', dumps, postgres!)).toEqual({node: 'db1', ignored: 1})
  })
  it('judges the newest backup over all nodes against the RPO', () => {
    const [, postgres] = backupLocations(inventory)
    const fresh = judgeBackups(
      'prod',
      postgres!,
      [
        {node: 'db1', ageSeconds: 90_000, path: '/old'},
        {node: 'db2', ageSeconds: 1800, path: '/new'},
      ],
      24,
    )
    expect(fresh).toEqual({status: 'pass', detail: 'newest db2:/new, 30 min old (RPO 24 h)'})
    expect(judgeBackups('prod', postgres!, [{node: 'db1', ageSeconds: 90_000, path: '/old'}], 24)).toMatchObject({
      status: 'fail',
      detail: 'newest db1:/old, 25.0 h old (RPO 24 h)',
    })
    const none = judgeBackups('prod', postgres!, [{node: 'db1', missingDir: true}, {node: 'db2'}], 24)
    expect(none).toEqual({
      status: 'fail',
      detail: 'no complete postgres backup found in db1:/var/backups/ctl/postgres (missing), db2:/var/backups/ctl/postgres (empty)',
      hint: 'Take one now: ctl runbook pg-backup prod; ctl backup list prod shows them',
    })
    expect(judgeBackups('prod', postgres!, [{node: 'db1', ignored: 2}], 24).detail).toBe(
      'no complete postgres backup found in db1:/var/backups/ctl/postgres (2 unfinished or damaged)',
    )
    expect(judgeBackups('prod', postgres!, [{node: 'db1', ageSeconds: 60, path: '/new', ignored: 1}], 24)).toMatchObject({
      status: 'pass',
      detail: 'newest db1:/new, 1 min old (RPO 24 h); 1 newer unfinished or damaged, not counted',
    })
  })
  it('with drillMaxAgeDays, also wants a restore drill that passed within it, on any node', () => {
    const [mariadb] = backupLocations(inventory)
    const fresh = {node: 'db2', ageSeconds: 60, path: '/new'}
    expect(judgeBackups('prod', mariadb!, [fresh], 24, 7)).toEqual({
      status: 'fail',
      detail: 'newest db2:/new, 1 min old (RPO 24 h); no restore drill has passed',
      hint: 'A backup never restored is not proven: ctl backup verify prod --database mariadb',
    })
    expect(judgeBackups('prod', mariadb!, [{...fresh, drillAgeSeconds: 8 * 86_400}], 24, 7)).toMatchObject({
      status: 'fail',
      detail: 'newest db2:/new, 1 min old (RPO 24 h); last passed drill 8.0 d ago (at most 7 d)',
    })
    expect(judgeBackups('prod', mariadb!, [fresh, {node: 'db1', drillAgeSeconds: 7200}], 24, 7)).toMatchObject({status: 'pass'})
    // The drill's time, from the record next to any backup of the node.
    const dir = '/var/backups/ctl/mariadb'
    const drill = (outcome: string, at: string) => Buffer.from(JSON.stringify({verifiedAt: at, outcome, problems: []})).toString('base64')
    const out = [
      '1700000000',
      `point\tmariadb\t1699990000\t10\t${'a'.repeat(64)}\t${drill('passed', '2023-11-14T20:13:20.000Z')}\t${dir}/20231114T211320`,
      `point\tmariadb\t1699990000\t10\t${'b'.repeat(64)}\t${drill('failed', '2023-11-14T22:00:00.000Z')}\t${dir}/20231114T211000`,
    ].join('\n')
    expect(parseNewestBackup('db2', out, mariadb!)).toMatchObject({drillAgeSeconds: 7200})
  })
})

describe('judgeCertificate', () => {
  const now = new Date('2026-01-01T00:00:00Z')
  const cert = (days: number, trusted = true) => ({
    subject: 'example.com',
    validTo: new Date(now.getTime() + days * 86_400_000),
    trusted,
    trustError: trusted ? undefined : 'SELF_SIGNED_CERT_IN_CHAIN',
  })
  it.each([
    [90, true, 'pass'],
    [10, true, 'fail'],
    [-1, true, 'fail'],
    [90, false, 'warn'],
  ] as const)('%i days left, trusted=%s → %s', (days, trusted, status) => {
    expect(judgeCertificate(cert(days, trusted), 14, now).status).toBe(status)
  })
  it('names the date and the days left', () => {
    expect(judgeCertificate(cert(10), 14, now).detail).toBe('example.com: expires 2026-01-11 (10 days, minimum 14)')
  })
})
