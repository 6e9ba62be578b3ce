import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {
  binlogFilesFrom,
  binlogStopDatetime,
  chooseMariadbPitrBackup,
  mariadbOffsitePitrRestoreCommand,
  mariadbPitrRestoreCommand,
  parseBinlogInfo,
  parsePitrBackups,
} from '../../../src/galera/pitr.js'
import {renderCommand} from '../../../src/lib/shell.js'

const backup = (dir: string, pointAt: string) => ({dir, binlog: {file: 'mariadb-bin.000002', position: 389}, pointAt})

describe('MariaDB point-in-time restore', () => {
  it("reads mariabackup's binlog position, with or without a GTID", () => {
    expect(parseBinlogInfo('mariadb-bin.000002\t389\t0-1-12\n')).toEqual({file: 'mariadb-bin.000002', position: 389, gtid: '0-1-12'})
    expect(parseBinlogInfo('mariadb-bin.000002\t389\t\n')).toEqual({file: 'mariadb-bin.000002', position: 389})
    expect(parseBinlogInfo('')).toBeUndefined()
    expect(parseBinlogInfo('../../etc/passwd\t1')).toBeUndefined()
  })

  it('lists complete backups with their consistent point, oldest first; other lines are ignored', () => {
    const out = [
      'backup\t1796528000\tmariadb-bin.000003 120  \t/b/20261206T040000',
      'backup\t1796527000\tmariadb-bin.000002 389 0-1-5 \t/b/20261206T034600',
      'backup\tnot-a-time\tmariadb-bin.000002 1\t/b/x',
      'noise',
    ].join('\n')
    expect(parsePitrBackups(out)).toEqual([
      {dir: '/b/20261206T034600', binlog: {file: 'mariadb-bin.000002', position: 389, gtid: '0-1-5'}, pointAt: '2026-12-06T03:16:40.000Z'},
      {dir: '/b/20261206T040000', binlog: {file: 'mariadb-bin.000003', position: 120}, pointAt: '2026-12-06T03:33:20.000Z'},
    ])
  })

  it('chooses the newest backup whose consistent point is at least a second before the target', () => {
    const backups = [backup('/b/a', '2026-12-06T03:00:00.000Z'), backup('/b/b', '2026-12-06T03:10:00.000Z')]
    const now = new Date('2026-12-06T04:00:00Z')
    expect(chooseMariadbPitrBackup(backups, new Date('2026-12-06T03:10:00.900Z'), now)).toMatchObject({ok: true, backup: {dir: '/b/a'}})
    expect(chooseMariadbPitrBackup(backups, new Date('2026-12-06T03:10:01.000Z'), now)).toMatchObject({
      ok: true,
      backup: {dir: '/b/b'},
      stopDatetime: '2026-12-06 03:10:01',
    })
    expect(chooseMariadbPitrBackup(backups, new Date('2026-12-06T02:59:00Z'), now)).toMatchObject({ok: false, code: 'mariadb.target-too-old'})
    expect(chooseMariadbPitrBackup(backups, new Date('2026-12-06T05:00:00Z'), now)).toMatchObject({ok: false, code: 'mariadb.future-target'})
    expect(chooseMariadbPitrBackup([], new Date('2026-12-06T03:30:00Z'), now)).toMatchObject({ok: false, code: 'mariadb.no-pitr-backup'})
  })

  it('stops the replay at the start of the target’s second, in UTC', () => {
    expect(binlogStopDatetime(new Date('2026-12-06T03:46:12.397Z'))).toBe('2026-12-06 03:46:12')
  })

  it("replays from the backup's file onwards, refusing when that file is gone", () => {
    expect(binlogFilesFrom(['mariadb-bin.000001', 'mariadb-bin.000002', 'mariadb-bin.000003'], 'mariadb-bin.000002')).toEqual([
      'mariadb-bin.000002',
      'mariadb-bin.000003',
    ])
    expect(binlogFilesFrom(['mariadb-bin.000003'], 'mariadb-bin.000002')).toBeUndefined()
  })

  it('restores into a new scratch directory, replays in UTC from the position, checks the replay’s exit status', () => {
    const script = renderCommand(
      mariadbPitrRestoreCommand(
        {node: 'h3', dir: '/var/tmp/ctl-mpitr-x'},
        backup("/b/it's", '2026-12-06T03:00:00.000Z'),
        '/var/lib/binlog',
        ['mariadb-bin.000002'],
        '2026-12-06 03:46:12',
      ),
    )
    expect(script).toContain('[ ! -e /var/tmp/ctl-mpitr-x ] || {')
    expect(script).toContain("cp -a '/b/it'\\''s'/. /var/tmp/ctl-mpitr-x/data/")
    expect(script).toContain('--skip-networking --skip-grant-tables')
    expect(script).toContain(
      "TZ=UTC mariadb-binlog --no-defaults --start-position=389 '--stop-datetime=2026-12-06 03:46:12' /var/lib/binlog/mariadb-bin.000002",
    )
    expect(script).toContain("grep -q '^ctl-binlog-exit 0$'")
  })

  it('--at latest: the newest backup, every archived file replayed to its end', () => {
    const choice = chooseMariadbPitrBackup([backup('/b/1', '2026-12-06T03:00:00.000Z'), backup('/b/2', '2026-12-06T04:00:00.000Z')], 'latest', new Date())
    expect(choice).toEqual({ok: true, backup: backup('/b/2', '2026-12-06T04:00:00.000Z')})
    const script = renderCommand(mariadbPitrRestoreCommand({node: 'h3', dir: '/x'}, backup('/b/2', ''), '/a', ['mariadb-bin.000002'], undefined))
    expect(script).toContain('mariadb-binlog --no-defaults --start-position=389 /a/mariadb-bin.000002')
    expect(script).not.toContain('--stop-datetime')
    expect(chooseMariadbPitrBackup([], 'latest', new Date())).toMatchObject({ok: false, code: 'mariadb.no-pitr-backup'})
  })

  it('offsite: fetches the backup, checks its manifest, fetches the archive, restores from the fetched copies, removes them', () => {
    const script = renderCommand(
      mariadbOffsitePitrRestoreCommand(
        {node: 'h3', dir: '/var/tmp/ctl-mpitr-x'},
        {...backup('/b/20261206T034600', '2026-12-06T03:46:00.000Z'), snapshot: 'a'.repeat(64)},
        {snapshot: 'b'.repeat(64), archiveDir: '/b/.ctl-binlogs/h3'},
        ['mariadb-bin.000002', 'mariadb-bin.000003'],
        '2026-12-06 03:50:00',
        ['# keys from stdin'],
      ),
    )
    const lines = script.split('\n')
    const at = (text: string) => lines.findIndex((l) => l.includes(text))
    expect(at('# keys from stdin')).toBe(0)
    expect(script).toContain('[ ! -e /var/tmp/ctl-mpitr-x ] && [ ! -e /var/tmp/ctl-mpitr-x.fetch ] ||')
    expect(at(`rst restore --no-lock --quiet --target /var/tmp/ctl-mpitr-x.fetch ${'a'.repeat(64)}`)).toBeLessThan(
      at('sha256sum --quiet --strict -c ctl-manifest.sha256'),
    )
    expect(at('sha256sum --quiet --strict -c')).toBeLessThan(at(`rst restore --no-lock --quiet --target /var/tmp/ctl-mpitr-x.fetch ${'b'.repeat(64)}`))
    expect(script).toContain('cd /var/tmp/ctl-mpitr-x.fetch/b/20261206T034600 && sha256sum')
    expect(script).toContain('cp -a /var/tmp/ctl-mpitr-x.fetch/b/20261206T034600/. /var/tmp/ctl-mpitr-x/data/')
    expect(script).toContain(
      "'--stop-datetime=2026-12-06 03:50:00' /var/tmp/ctl-mpitr-x.fetch/b/.ctl-binlogs/h3/mariadb-bin.000002 /var/tmp/ctl-mpitr-x.fetch/b/.ctl-binlogs/h3/mariadb-bin.000003",
    )
    expect(script).toContain(`trap 'rm -rf "$fetchdir"' EXIT`)
    expect(() => execFileSync('sh', ['-n'], {input: script})).not.toThrow()
  })
})
