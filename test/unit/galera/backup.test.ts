import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {
  backupCommand,
  copyBackCommand,
  grastateText,
  moveDatadirAsideCommand,
  parseGaleraInfo,
  parseRecord,
  prepareCommand,
  recordCommand,
  verifyBackupCommand,
  writeGrastateCommand,
} from '../../../src/galera/backup.js'
import {parseGrastate} from '../../../src/galera/facts.js'
import {scratch} from '../../support/scratch.js'
import {renderCommand} from '../../../src/lib/shell.js'
import type {GaleraMember} from '../../../src/inventory/schema/databases.js'

const member: GaleraMember = {
  node: 'h3',
  defaultsFile: '/etc/my node.cnf',
  datadir: '/var/lib/mysql',
  socket: '/run/mysqld/mysqld.sock',
  control: {kind: 'systemd', unit: 'mariadb'},
}
const U = '5f2b7c3e-1a2b-11ef-9a6e-8f1c2d3e4f50'
const sh = (script: string) => execFileSync('sh', ['-c', script], {encoding: 'utf8'})

describe('backup command lines', () => {
  it('backs up into a new directory, the password on stdin, --defaults-file first', () => {
    expect(renderCommand(backupCommand(member, 'ctl', '/backups/20261126T120000', true))).toBe(
      "IFS= read -r MYSQL_PWD && export MYSQL_PWD && umask 077 && mkdir -p /backups && chmod 700 /backups && mkdir /backups/20261126T120000 && mariabackup '--defaults-file=/etc/my node.cnf' --backup --galera-info --socket=/run/mysqld/mysqld.sock --user=ctl --target-dir=/backups/20261126T120000",
    )
    expect(renderCommand(prepareCommand('/backups/x'))).toBe('umask 077 && mariabackup --prepare --target-dir=/backups/x')
    expect(renderCommand(copyBackCommand(member, '/backups/x'))).toBe(
      `mariabackup '--defaults-file=/etc/my node.cnf' --copy-back --target-dir=/backups/x --datadir=/var/lib/mysql && chown -R "$(stat -c %u:%g /var/lib/mysql)" /var/lib/mysql`,
    )
  })

  it('records a manifest whose checksum and size verify, and detects a changed file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-backup-'))
    const target = join(dir, 'b 1')
    mkdirSync(join(target, 'db'), {recursive: true})
    writeFileSync(join(target, 'ibdata1'), 'x'.repeat(1000))
    writeFileSync(join(target, 'db', 't.ibd'), 'rows')
    const record = parseRecord(sh(renderCommand(recordCommand(target))))
    expect(record?.checksum).toMatch(/^[0-9a-f]{64}$/)
    expect(record!.sizeBytes).toBeGreaterThan(1000)
    expect(sh(renderCommand(verifyBackupCommand(target)))).toContain(record!.checksum)
    writeFileSync(join(target, 'db', 't.ibd'), 'changed')
    expect(() => sh(renderCommand(verifyBackupCommand(target)) + ' 2>/dev/null')).toThrow()
  })

  it('keeps backups owner-only in a real shell: the backup directory (even an existing 0755 one), the backup and every file in it', () => {
    // A mariabackup stand-in that writes a file and a directory into --target-dir under the umask it is given.
    const {existing: backupDir, run} = scratch('ctl-backup-modes-', {
      mariabackup:
        'for a; do case "$a" in --target-dir=*) t=${a#--target-dir=};; esac; done; mkdir -p "$t/db" && echo x > "$t/db/t.ibd" && echo y > "$t/ibdata1"',
    })
    const target = join(backupDir, '20261126T120000')
    run(renderCommand(backupCommand({...member, defaultsFile: undefined}, 'ctl', target, false)))
    run(renderCommand(prepareCommand(target)))
    // Whatever mode a file got (mariabackup may set its own umask), the record step takes it back.
    chmodSync(join(target, 'ibdata1'), 0o644)
    run(renderCommand(recordCommand(target)))
    for (const dir of [backupDir, target, join(target, 'db')]) expect(statSync(dir).mode & 0o777, dir).toBe(0o700)
    for (const file of ['ibdata1', 'db/t.ibd', 'ctl-manifest.sha256']) expect(statSync(join(target, file)).mode & 0o777, file).toBe(0o600)
  })

  it('moves a datadir aside (kept whole, owner-only) and leaves an empty one with the same mode; never over an existing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-aside-'))
    const datadir = join(dir, 'data')
    mkdirSync(datadir, {mode: 0o750})
    writeFileSync(join(datadir, 'ibdata1'), 'keep me')
    sh(renderCommand(moveDatadirAsideCommand(datadir, `${datadir}.before-restore-1`)))
    expect(readFileSync(join(`${datadir}.before-restore-1`, 'ibdata1'), 'utf8')).toBe('keep me')
    expect(statSync(datadir).mode & 0o777).toBe(0o750)
    expect(statSync(`${datadir}.before-restore-1`).mode & 0o777).toBe(0o700)
    expect(() => sh(renderCommand(moveDatadirAsideCommand(datadir, `${datadir}.before-restore-1`)))).toThrow()
  })

  it('writes grastate.dat from the backup position', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-grastate-'))
    sh(renderCommand(writeGrastateCommand(dir, {uuid: U, seqno: 77}, true)))
    expect(parseGrastate(readFileSync(join(dir, 'grastate.dat'), 'utf8'))).toEqual({uuid: U, seqno: 77, safeToBootstrap: true})
    expect(grastateText({uuid: U, seqno: 1}, false)).toContain('safe_to_bootstrap: 0')
  })

  it('reads xtrabackup_galera_info with or without the GTID domain', () => {
    expect(parseGaleraInfo(`${U}:42\n`)).toEqual({uuid: U, seqno: 42})
    expect(parseGaleraInfo(`${U}:42 0-1-42\n`)).toEqual({uuid: U, seqno: 42})
    expect(parseGaleraInfo('')).toBeUndefined()
  })
})
