import {statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {renderCommand} from '../../../src/lib/shell.js'
import {
  backupFilePath,
  compareCounts,
  countArchive,
  dumpCommand,
  dumpFiles,
  parseArchiveList,
  parseDumpChecksum,
  restoreCommand,
  restoreNames,
  swapDatabasesSql,
  writeRecordCommand,
} from '../../../src/patroni/dump.js'
import {scratch} from '../../support/scratch.js'

const PW = 'IFS= read -r p; if [ -n "$p" ]; then PGPASSWORD=$p; export PGPASSWORD; fi; PGCONNECT_TIMEOUT=5; export PGCONNECT_TIMEOUT;'
const files = dumpFiles('/var/backups/ctl/postgres', 'ctl-lab', 'shop', '20261126T123355')

describe('dump and restore commands', () => {
  it('names the files by scope, database and time', () => {
    expect(files).toEqual({
      file: '/var/backups/ctl/postgres/ctl-lab-shop-20261126T123355.dump',
      partial: '/var/backups/ctl/postgres/ctl-lab-shop-20261126T123355.dump.partial',
      record: '/var/backups/ctl/postgres/ctl-lab-shop-20261126T123355.dump.json',
    })
    expect(backupFilePath('x.dump', '/b')).toBe('/b/x.dump')
    expect(backupFilePath('/elsewhere/x.dump', '/b')).toBe('/elsewhere/x.dump')
  })

  it('dumps into a partial file, renames it, then prints checksum and size', () => {
    expect(renderCommand(dumpCommand({host: '198.18.0.12', port: 5432, user: 'postgres', database: 'shop'}, files))).toBe(
      `${PW} umask 077 && mkdir -p /var/backups/ctl/postgres && chmod 700 /var/backups/ctl/postgres && test '!' -e /var/backups/ctl/postgres/ctl-lab-shop-20261126T123355.dump && pg_dump -Fc -h 198.18.0.12 -p 5432 -U postgres -d dbname=shop -f /var/backups/ctl/postgres/ctl-lab-shop-20261126T123355.dump.partial && mv /var/backups/ctl/postgres/ctl-lab-shop-20261126T123355.dump.partial /var/backups/ctl/postgres/ctl-lab-shop-20261126T123355.dump && sha256sum /var/backups/ctl/postgres/ctl-lab-shop-20261126T123355.dump && stat -c %s /var/backups/ctl/postgres/ctl-lab-shop-20261126T123355.dump`,
    )
  })

  it('restores against the given server, stopping at the first error', () => {
    expect(renderCommand(restoreCommand({host: '198.18.0.11', port: 5432, user: 'postgres', database: 'shop_restored_20261126t123355'}, files.file))).toBe(
      `${PW} pg_restore -h 198.18.0.11 -p 5432 -U postgres -d dbname=shop_restored_20261126t123355 --exit-on-error -j 2 /var/backups/ctl/postgres/ctl-lab-shop-20261126T123355.dump`,
    )
  })

  it('never builds a dump or restore whose database name libpq would read as connection settings', () => {
    for (const database of ['host=10.0.0.9 port=5432 dbname=app', 'dbname=app', "we'ird db"]) {
      expect(() => dumpCommand({host: '198.18.0.12', port: 5432, user: 'postgres', database}, files), database).toThrow(/refused/)
      expect(() => restoreCommand({host: '198.18.0.11', port: 5432, user: 'postgres', database}, files.file), database).toThrow(/refused/)
    }
  })

  it('keeps the dump owner-only in a real shell: 0600 file, 0700 directories, an existing 0755 backup directory tightened', () => {
    // A pg_dump stand-in that writes its -f file the way pg_dump does (fopen: 0666 minus the umask).
    const {root, existing, run} = scratch('ctl-dump-', {pg_dump: 'while [ "$1" != -f ]; do shift; done; echo archive > "$2"'})
    for (const dir of [existing, join(root, 'new', 'postgres')]) {
      const f = dumpFiles(dir, 'ctl-lab', 'shop', '20261126T123355')
      run(renderCommand(dumpCommand({host: 'h', port: 5432, user: 'postgres', database: 'shop'}, f)), '\n')
      run(renderCommand(writeRecordCommand(f.record)), '{}')
      expect(statSync(f.file).mode & 0o777, f.file).toBe(0o600)
      expect(statSync(f.record).mode & 0o777, f.record).toBe(0o600)
      expect(statSync(dir).mode & 0o777, dir).toBe(0o700)
    }
    expect(statSync(join(root, 'new')).mode & 0o777).toBe(0o700)
  })

  it('reads sha256sum and stat output', () => {
    const sha = 'b382c3a6e06eb4996af26c7abe217731ddc5084fac227d609bf44fe5978de0ac'
    expect(parseDumpChecksum(`${sha}  ${files.file}\n32950\n`)).toEqual({sha256: sha, sizeBytes: 32950})
    expect(parseDumpChecksum('sha256sum: x: No such file or directory\n')).toBeUndefined()
  })
})

// `pg_restore --list` of the lab's test database (PostgreSQL 15).
const LIST = `;
; Archive created at 2026-11-26 12:34:00 UTC
;     dbname: shop
;
6; 2615 16426 SCHEMA - audit postgres
223; 1255 16425 PROCEDURE public noop() postgres
222; 1255 16424 FUNCTION public order_count(integer) postgres
221; 1259 16427 TABLE audit log postgres
218; 1259 16402 TABLE public orders postgres
219; 1259 16414 VIEW public big_orders postgres
216; 1259 16391 TABLE public customers postgres
215; 1259 16390 SEQUENCE public customers_id_seq postgres
3383; 0 0 SEQUENCE OWNED BY public customers_id_seq postgres
220; 1259 16418 MATERIALIZED VIEW public order_totals postgres
217; 1259 16401 SEQUENCE public orders_id_seq postgres
3217; 2604 16394 DEFAULT public customers id postgres
3376; 0 16427 TABLE DATA audit log postgres
3372; 0 16391 TABLE DATA public customers postgres
3374; 0 16402 TABLE DATA public orders postgres
3384; 0 0 SEQUENCE SET public customers_id_seq postgres
3385; 0 0 SEQUENCE SET public orders_id_seq postgres
3220; 2606 16400 CONSTRAINT public customers customers_name_key postgres
3222; 2606 16398 CONSTRAINT public customers customers_pkey postgres
3225; 2606 16407 CONSTRAINT public orders orders_pkey postgres
3223; 1259 16413 INDEX public orders_created postgres
3226; 2606 16408 FK CONSTRAINT public orders orders_customer_id_fkey postgres
3375; 0 16418 MATERIALIZED VIEW DATA public order_totals postgres
`

describe('pg_restore --list', () => {
  it('reads multi-word entry types', () => {
    const entries = parseArchiveList(LIST)
    expect(entries).toHaveLength(23)
    expect(entries.find((e) => e.id === 3383)).toEqual({id: 3383, type: 'SEQUENCE OWNED BY', rest: 'public customers_id_seq postgres'})
    expect(entries.find((e) => e.id === 3375)?.type).toBe('MATERIALIZED VIEW DATA')
    expect(entries.find((e) => e.id === 220)?.type).toBe('MATERIALIZED VIEW')
  })

  it('counts the compared kinds', () => {
    expect(countArchive(parseArchiveList(LIST))).toEqual({
      TABLE: 3,
      VIEW: 1,
      'MATERIALIZED VIEW': 1,
      SEQUENCE: 2,
      INDEX: 1,
      CONSTRAINT: 3,
      'FK CONSTRAINT': 1,
      FUNCTION: 1,
      PROCEDURE: 1,
      'TABLE DATA': 3,
    })
  })

  it('compares with the catalog and names what differs', () => {
    const archive = countArchive(parseArchiveList(LIST))
    const comparison = compareCounts(archive, {...archive, INDEX: 0})
    expect(comparison.filter((c) => !c.same)).toEqual([{kind: 'INDEX', archive: 1, database: 0, same: false}])
  })
})

describe('restore names', () => {
  it.each([
    [
      {backupDatabase: 'shop', replace: false, stamp: '20261126T123614'},
      {target: 'shop_restored_20261126t123614', work: 'shop_restored_20261126t123614'},
    ],
    [
      {requested: 'shop_copy', backupDatabase: 'shop', replace: false, stamp: '20261126T123614'},
      {target: 'shop_copy', work: 'shop_copy'},
    ],
    [
      {requested: 'shop', backupDatabase: 'shop', replace: true, stamp: '20261126T123614'},
      {target: 'shop', work: 'shop_ctl_restore_20261126t123614', aside: 'shop_replaced_20261126t123614'},
    ],
  ])('%j', (options, expected) => expect(restoreNames(options)).toEqual(expected))

  it('swaps in one transaction after blocking and ending sessions, keeping the old database', () => {
    expect(swapDatabasesSql('shop', 'shop_ctl_restore_x', 'shop_replaced_x')).toBe(
      [
        'ALTER DATABASE "shop" WITH ALLOW_CONNECTIONS false;',
        "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE datname = 'shop' AND pid <> pg_backend_pid();",
        'BEGIN;',
        'ALTER DATABASE "shop" RENAME TO "shop_replaced_x";',
        'ALTER DATABASE "shop_ctl_restore_x" RENAME TO "shop";',
        'COMMIT;',
        'ALTER DATABASE "shop_replaced_x" WITH ALLOW_CONNECTIONS true;',
      ].join('\n'),
    )
  })
})
