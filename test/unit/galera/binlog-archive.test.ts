import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {
  archiveFilesToPrune,
  binlogArchiveCommand,
  binlogArchiveDir,
  binlogShipCommand,
  newestBinlogSnapshot,
  parseBinlogArchiveRun,
  parseOffsiteBinlogFiles,
  removeArchivedBinlogsCommand,
  sortBinlogs,
} from '../../../src/galera/binlog-archive.js'
import {renderCommand} from '../../../src/lib/shell.js'

const repo = {url: 's3:https://s3.example:9000/b/restic/mariadb', where: 's3://b/restic/mariadb'}
const id = (c: string) => c.repeat(64)

describe('binary-log archive', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
  })

  it('keeps one hidden directory per server beside the backups (never listed as a backup)', () => {
    expect(binlogArchiveDir({backupDir: '/var/backups/ctl/mariadb'}, 'db1')).toBe('/var/backups/ctl/mariadb/.ctl-binlogs/db1')
  })

  it('flushes, reads the password from stdin only, and quotes the archive path', () => {
    const text = renderCommand(binlogArchiveCommand({socket: '/run/m.sock'}, 'ctl', "/b/it's $(x)", true))
    expect(text).toContain('IFS= read -r MYSQL_PWD && export MYSQL_PWD')
    expect(text).toContain("-e 'FLUSH BINARY LOGS; SELECT @@log_bin, @@log_bin_basename, @@log_bin_index, @@datadir'")
    expect(text).toContain(`mkdir -p '/b/it'\\''s $(x)'`)
    expect(text).not.toMatch(/--password/)
    expect(() => execFileSync('sh', ['-n'], {input: text})).not.toThrow()
  })

  // The script itself, run against a stand-in `mariadb` that answers the SELECT as a server would.
  function runArchive(root: string, answer: string): {stdout: string; code: number} {
    const bin = join(root, 'bin')
    mkdirSync(bin, {recursive: true})
    writeFileSync(join(bin, 'mariadb'), `#!/bin/sh\nprintf '%s\\n' '${answer}'\n`)
    chmodSync(join(bin, 'mariadb'), 0o755)
    const script = renderCommand(binlogArchiveCommand({socket: '/s'}, 'ctl', join(root, 'archive'), false))
    try {
      return {stdout: execFileSync('sh', ['-c', script], {encoding: 'utf8', env: {...process.env, PATH: `${bin}:${process.env.PATH}`}}), code: 0}
    } catch (error) {
      return {stdout: String((error as {stdout?: string}).stdout ?? ''), code: (error as {status: number}).status}
    }
  }

  it('copies the closed files only, skips those archived whole, copies again one cut short', () => {
    const root = mkdtempSync(join(tmpdir(), 'ctl-binlogs-'))
    dirs.push(root)
    const logs = join(root, 'data', 'binlog')
    mkdirSync(logs, {recursive: true})
    for (const [name, text] of [
      ['mariadb-bin.000001', 'one'],
      ['mariadb-bin.000002', 'two two'],
      ['mariadb-bin.000003', 'open'],
    ])
      writeFileSync(join(logs, name), text)
    // The index as the server writes it: relative names here, the newest (open) file last.
    writeFileSync(join(logs, 'mariadb-bin.index'), './mariadb-bin.000001\n./mariadb-bin.000002\n./mariadb-bin.000003\n')
    const answer = `1\t${logs}/mariadb-bin\tbinlog/mariadb-bin.index\t${join(root, 'data')}/`
    const first = runArchive(root, answer)
    expect(first.code).toBe(0)
    expect(parseBinlogArchiveRun(first.stdout)).toEqual({
      added: ['mariadb-bin.000001', 'mariadb-bin.000002'],
      files: [
        {name: 'mariadb-bin.000001', sizeBytes: 3},
        {name: 'mariadb-bin.000002', sizeBytes: 7},
      ],
    })
    expect(readFileSync(join(root, 'archive', 'mariadb-bin.000002'), 'utf8')).toBe('two two')
    // Again: nothing new. A copy cut short (another size) is copied again.
    expect(parseBinlogArchiveRun(runArchive(root, answer).stdout).added).toEqual([])
    truncateSync(join(root, 'archive', 'mariadb-bin.000001'), 1)
    expect(parseBinlogArchiveRun(runArchive(root, answer).stdout).added).toEqual(['mariadb-bin.000001'])
    expect(readdirSync(join(root, 'archive')).sort()).toEqual(['mariadb-bin.000001', 'mariadb-bin.000002'])
    // Binary logging off: exit 4, nothing copied.
    expect(runArchive(root, `0\t\t\t${root}/`).code).toBe(4)
  })

  it('orders files by their number, not as text', () => {
    expect(sortBinlogs([{name: 'b.1000000'}, {name: 'b.999999'}, {name: 'b.000002'}]).map((f) => f.name)).toEqual(['b.000002', 'b.999999', 'b.1000000'])
  })

  it('ships the archive tagged, keeping a few snapshots (the newest holds every file), keys on stdin', () => {
    const text = renderCommand(binlogShipCommand(repo, '/b/.ctl-binlogs/db1', 'prod'))
    expect(text).toContain('IFS= read -r AWS_ACCESS_KEY_ID')
    expect(text).toContain('rst backup --json --quiet --tag ctl-binlogs --tag cluster=prod /b/.ctl-binlogs/db1')
    expect(text).toContain('rst forget --quiet --tag ctl-binlogs --path /b/.ctl-binlogs/db1 --keep-last 3')
    expect(text).not.toMatch(/--prune/)
  })

  it('finds the newest archive snapshot and its files directly in the archive', () => {
    const snaps = [
      {id: id('a'), time: '2026-12-07T01:00:00Z', tags: ['ctl-binlogs']},
      {id: id('b'), time: '2026-12-07T02:00:00Z', tags: ['ctl-binlogs']},
      {id: id('c'), time: '2026-12-07T03:00:00Z', tags: ['ctl-mariadb']},
      {id: 'short', time: '2026-12-07T04:00:00Z', tags: ['ctl-binlogs']},
    ]
    expect(newestBinlogSnapshot(snaps)).toEqual({snapshot: id('b'), time: '2026-12-07T02:00:00.000Z'})
    expect(newestBinlogSnapshot([])).toBeUndefined()
    const ls = [
      JSON.stringify({struct_type: 'snapshot', id: id('b')}),
      JSON.stringify({struct_type: 'node', type: 'dir', name: 'db1', path: '/b/.ctl-binlogs/db1'}),
      JSON.stringify({struct_type: 'node', type: 'file', name: 'mariadb-bin.000010', path: '/b/.ctl-binlogs/db1/mariadb-bin.000010', size: 10}),
      JSON.stringify({struct_type: 'node', type: 'file', name: 'mariadb-bin.000009', path: '/b/.ctl-binlogs/db1/mariadb-bin.000009', size: 9}),
      JSON.stringify({struct_type: 'node', type: 'file', name: 'x.000001', path: '/b/.ctl-binlogs/db1/sub/x.000001', size: 1}),
      'not json',
    ].join('\n')
    expect(parseOffsiteBinlogFiles(ls, '/b/.ctl-binlogs/db1')).toEqual([
      {name: 'mariadb-bin.000009', sizeBytes: 9},
      {name: 'mariadb-bin.000010', sizeBytes: 10},
    ])
  })
})

describe('binary-log archive retention', () => {
  it('removes only the files before the oldest file a kept backup starts from, of the same basename', () => {
    const archived = ['mariadb-bin.000001', 'mariadb-bin.000002', 'mariadb-bin.000003', 'mariadb-bin.000010', 'other-bin.000001']
    expect(archiveFilesToPrune(archived, ['mariadb-bin.000010', 'mariadb-bin.000003'])).toEqual({
      remove: ['mariadb-bin.000001', 'mariadb-bin.000002'],
      keepFrom: 'mariadb-bin.000003',
    })
    // No kept backup with a binlog position: nothing is known to be unneeded.
    expect(archiveFilesToPrune(archived, [])).toEqual({remove: []})
  })

  it('removes under the archive lock and only names that are binary logs', () => {
    const text = renderCommand(removeArchivedBinlogsCommand('/b/.ctl-binlogs/h3', ['mariadb-bin.000001']))
    expect(text).toContain('exec 9> /b/.ctl-binlogs/h3.lock && flock -w 600 9')
    expect(text).toContain('cd /b/.ctl-binlogs/h3 && rm -f -- mariadb-bin.000001')
    expect(() => removeArchivedBinlogsCommand('/b', ['../../etc/passwd'])).toThrow(/not a binary log/)
    expect(() => removeArchivedBinlogsCommand('/b', ['-rf'])).toThrow(/not a binary log/)
  })
})
