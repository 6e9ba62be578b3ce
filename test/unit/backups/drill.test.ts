import {execFileSync} from 'node:child_process'
import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {archiveRowCountsCommand, judgeDrill, mariadbDrillCommand, parseDrillOutput, postgresDrillCommand, rowsFileText} from '../../../src/backups/drill.js'
import {renderCommand} from '../../../src/lib/shell.js'

const meta = {path: '/b/x.dump', node: 'h3', verifiedAt: '2026-12-05T00:00:00.000Z', durationMs: 1200}
const ok = ['integrity\tok', 'start\tok', 'restore\tok']

describe('restore drills: output, verdict and the count of rows at backup time', () => {
  it('passes when every stage passed, every table is readable and the counts are the recorded ones', () => {
    const out = parseDrillOutput([...ok, 'rows\tpublic.orders\t3', 'rows\tpublic."Odd name"\t0', 'done'].join('\n'))
    const record = judgeDrill(out, {'public.orders': 3, 'public."Odd name"': 0}, meta)
    expect(record).toMatchObject({outcome: 'passed', problems: [], tables: 2, rows: 3, counts: 'matched', node: 'h3'})
  })

  it.each([
    ['a full /var/tmp', ['scratch\tfail\t/var/tmp has 10 bytes free, the drill needs about 99'], undefined, /scratch failed: \/var\/tmp has 10 bytes free/],
    ['a changed archive', ['integrity\tfail\tsha256 abc, the record says def'], undefined, /integrity failed: sha256 abc, the record says def/],
    ['a server that does not start', ['integrity\tok', 'start\tfail\t[ERROR] InnoDB: corrupt page'], undefined, /start failed: \[ERROR\] InnoDB/],
    ['a restore that stops', [...ok.slice(0, 2), 'restore\tfail\tpg_restore: error: could not read'], undefined, /restore failed/],
    ['a drill cut off before its end', [...ok, 'rows\tpublic.t\t1'], undefined, /stopped before its end/],
    [
      'an unreadable table',
      [...ok, 'unreadable\tapp.t\tERROR 1932 table does not exist in engine', 'done'],
      undefined,
      /table app.t is not readable: ERROR 1932/,
    ],
    ['a row lost', [...ok, 'rows\tpublic.t\t4', 'done'], {'public.t': 5}, /table public.t has 4 rows, 5 at backup time/],
    ['a table lost', [...ok, 'done'], {'public.t': 5}, /table public.t \(5 rows at backup time\) is missing/],
    [
      'a table the backup never had',
      [...ok, 'rows\tpublic.t\t5', 'rows\tpublic.x\t1', 'done'],
      {'public.t': 5},
      /table public.x was not in the backup's record/,
    ],
  ])('fails %s', (_name, lines, recorded, problem) => {
    const record = judgeDrill(parseDrillOutput(lines.join('\n')), recorded, meta)
    expect(record.outcome).toBe('failed')
    expect(record.problems.join('\n')).toMatch(problem)
  })

  it('compares with the counts the backup itself carries (mariabackup: ctl-rows.tsv, under the manifest)', () => {
    const lines = ['integrity\tok', 'recorded\tapp.t\t7', 'recorded\tapp.u\t1', 'start\tok', 'rows\tapp.t\t7', 'rows\tapp.u\t0', 'done']
    expect(judgeDrill(parseDrillOutput(lines.join('\n')), undefined, meta)).toMatchObject({
      outcome: 'failed',
      counts: 'mismatched',
      problems: ['table app.u has 0 rows, 1 at backup time'],
    })
    expect(rowsFileText({'b.t': 2, 'a.t': 1})).toBe('a.t\t1\nb.t\t2\n')
    expect(renderCommand(mariadbDrillCommand('/b/x', {integrity: false}))).not.toContain('sha256sum')
  })

  it('says when there was no count record to compare with (a physical backup): readable is what passed', () => {
    expect(judgeDrill(parseDrillOutput([...ok, 'rows\tapp.t\t7', 'done'].join('\n')), undefined, meta)).toMatchObject({
      outcome: 'passed',
      counts: 'not recorded',
    })
  })

  it('counts the rows of every table in a pg_dump archive from its COPY blocks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-drill-'))
    // A stand-in pg_restore that prints what `pg_restore -f - --data-only` prints for an archive.
    writeFileSync(join(dir, 'pg_restore'), '#!/bin/sh\ncat\n')
    chmodSync(join(dir, 'pg_restore'), 0o755)
    const sqlText = [
      'SET statement_timeout = 0;',
      'COPY public.orders (id, note) FROM stdin;',
      '1\ta\\nb',
      '2\t\\N',
      '\\.',
      '',
      'COPY public."Odd name" (x) FROM stdin;',
      '\\.',
      'COPY app.items  FROM stdin;',
      'x',
      '\\.',
    ].join('\n')
    const file = join(dir, "it's.dump")
    writeFileSync(file, `${sqlText}\n`)
    const out = execFileSync('bash', ['-c', renderCommand(archiveRowCountsCommand(file))], {
      encoding: 'utf8',
      env: {...process.env, PATH: `${dir}:${process.env.PATH}`},
    })
    expect(parseDrillOutput(out).rows).toEqual({'public.orders': 2, 'public."Odd name"': 0, 'app.items': 1})
  })

  it('quotes the backup path and the expected checksum into the scripts, and always cleans up its scratch directory', () => {
    const maria = renderCommand(mariadbDrillCommand("/b/x';reboot"))
    expect(maria).toContain(`cd '/b/x'\\'';reboot'`)
    expect(maria).toContain('trap cleanup EXIT')
    expect(maria).toContain('--skip-networking')
    const pg = renderCommand(postgresDrillCommand('/b/a b.dump', 'f'.repeat(64)))
    expect(pg).toContain(`< '/b/a b.dump'`)
    expect(pg).toContain('trap cleanup EXIT')
    expect(pg).toContain('listen_addresses=')
    // Free space first: a drill that would fill /var/tmp on a production node refuses.
    expect(pg.indexOf('df -P -B1 /var/tmp')).toBeLessThan(pg.indexOf('mktemp'))
    expect(maria.indexOf('df -P -B1 /var/tmp')).toBeLessThan(maria.indexOf('mktemp'))
  })
})
