import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {missingAfterImport, parseDefinitionCounts} from '../../../src/backups/rabbitmq-definitions.js'
import type {RestorePoint} from '../../../src/backups/restore-points.js'
import {chooseRestorePoint} from '../../../src/backups/select.js'
import {asidePath, copyStagedScript, parseKeyspace, parseRedisFiles, receiveStagedScript, stagedPath, swapFilesScript} from '../../../src/redis/restore.js'

const sh = (script: string, input?: string) => execFileSync('sh', ['-c', script], {input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']})
const sha = (text: string) => createHash('sha256').update(text).digest('hex')

describe('redis-restore: the files on the master node', () => {
  it('reads where the server keeps its files from CONFIG GET; refuses relative or odd names', () => {
    const files = parseRedisFiles('dir\n/var/lib/redis\ndbfilename\ndump.rdb\nappenddirname\nappendonlydir\nappendfilename\nappendonly.aof\n')
    expect(files).toEqual({dir: '/var/lib/redis', dbfilename: 'dump.rdb', appenddirname: 'appendonlydir', appendfilename: 'appendonly.aof'})
    expect(parseRedisFiles('dir\nvar/lib\ndbfilename\ndump.rdb\nappenddirname\na\nappendfilename\nb\n')).toBeUndefined()
    expect(parseRedisFiles('dir\n/d\ndbfilename\n../x\nappenddirname\na\nappendfilename\nb\n')).toBeUndefined()
    // Redis 6 has no appenddirname: no multi-part AOF to install into.
    expect(parseRedisFiles('dir\n/d\ndbfilename\ndump.rdb\nappendfilename\nb\n')).toBeUndefined()
  })

  it("stages a copy only when its sha256 is the backup's, from stdin (base64) or from the same disk", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-rr-'))
    const files = {dir, dbfilename: 'dump.rdb', appenddirname: 'appendonlydir', appendfilename: 'appendonly.aof'}
    const staged = stagedPath(files, '20261207T010000')
    sh(receiveStagedScript(staged, sha('REDIS-DATA')), Buffer.from('REDIS-DATA').toString('base64'))
    expect(readFileSync(staged, 'utf8')).toBe('REDIS-DATA')
    expect(() => sh(receiveStagedScript(`${staged}2`, sha('other')), Buffer.from('REDIS-DATA').toString('base64'))).toThrow(/arrived changed/)
    expect(existsSync(`${staged}2`) || existsSync(`${staged}2.part`)).toBe(false)
    writeFileSync(join(dir, "backup 'b'.rdb"), 'COPY')
    sh(copyStagedScript(join(dir, "backup 'b'.rdb"), `${staged}3`, sha('COPY')))
    expect(readFileSync(`${staged}3`, 'utf8')).toBe('COPY')
  })

  it('moves the old RDB and AOF aside once, installs the backup as RDB and AOF base with a manifest naming only it; a rerun is safe', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-rr-swap-'))
    const files = {dir, dbfilename: 'dump.rdb', appenddirname: 'appendonlydir', appendfilename: 'appendonly.aof'}
    writeFileSync(join(dir, 'dump.rdb'), 'OLD')
    mkdirSync(join(dir, 'appendonlydir'))
    writeFileSync(join(dir, 'appendonlydir', 'appendonly.aof.3.incr.aof'), 'OLD-AOF')
    const staged = stagedPath(files, 's')
    writeFileSync(staged, 'NEW')
    const aside = asidePath(files, 's')
    const script = swapFilesScript(files, staged, aside)
    sh(script)
    expect(readFileSync(join(dir, 'dump.rdb'), 'utf8')).toBe('NEW')
    expect(readdirSync(join(dir, 'appendonlydir')).sort()).toEqual(['appendonly.aof.1.base.rdb', 'appendonly.aof.manifest'])
    expect(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.1.base.rdb'), 'utf8')).toBe('NEW')
    expect(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8')).toBe('file appendonly.aof.1.base.rdb seq 1 type b\n')
    expect(readFileSync(join(aside, 'dump.rdb'), 'utf8')).toBe('OLD')
    expect(readFileSync(join(aside, 'appendonlydir', 'appendonly.aof.3.incr.aof'), 'utf8')).toBe('OLD-AOF')
    expect(existsSync(staged)).toBe(false)
    // A resumed run after the staged copy is gone refuses; with it staged again, the old files aside stay as they were.
    expect(() => sh(script)).toThrow(/staged backup is gone/)
    writeFileSync(staged, 'NEW2')
    sh(script)
    expect(readFileSync(join(aside, 'dump.rdb'), 'utf8')).toBe('OLD')
    expect(readFileSync(join(dir, 'dump.rdb'), 'utf8')).toBe('NEW2')
  })

  it('reads INFO keyspace', () => {
    expect(parseKeyspace('# Keyspace\r\ndb0:keys=300,expires=0,avg_ttl=0\r\ndb2:keys=1,expires=1,avg_ttl=5\r\n')).toEqual({db0: 300, db2: 1})
    expect(parseKeyspace('# Keyspace\n')).toEqual({})
  })
})

describe('rabbitmq-restore: what the cluster must hold after the import', () => {
  it('reads the counts eval prints and names what is missing (queues, exchanges, bindings, policies)', () => {
    const after = parseDefinitionCounts('"bindings=1 exchanges=2 policies=0 queues=3 users=5 vhosts=2 "')
    expect(after).toEqual({bindings: 1, exchanges: 2, policies: 0, queues: 3, users: 5, vhosts: 2})
    expect(missingAfterImport({queues: 3, exchanges: 2, bindings: 1, policies: 0, users: 9}, after)).toEqual([])
    expect(missingAfterImport({queues: 4, policies: 1}, after)).toEqual([
      'queues: 3 in the cluster, 4 in the backup',
      'policies: 0 in the cluster, 1 in the backup',
    ])
  })
})

describe('choosing the backup a restore brings back', () => {
  const point = (path: string, takenAt: string, over: Partial<RestorePoint> = {}): RestorePoint => ({
    database: 'redis',
    series: 'redis',
    path,
    dir: '/b',
    nodes: ['h3'],
    takenAt,
    sizeBytes: 1,
    complete: true,
    encrypted: false,
    offsite: false,
    ...over,
  })
  const points = [
    point('/b/1.rdb', '2026-12-01T00:00:00Z'),
    point('/b/3.rdb', '2026-12-03T00:00:00Z', {problem: 'size'}),
    point('/b/2.rdb', '2026-12-02T00:00:00Z'),
    point('/b/4.rdb', '2026-12-04T00:00:00Z', {complete: false}),
  ]
  const options = {env: 'prod', take: 'ctl runbook redis-backup prod'}
  it('the newest complete and undamaged one, or the named one if it is whole', () => {
    expect(chooseRestorePoint(points, options).path).toBe('/b/2.rdb')
    expect(chooseRestorePoint(points, {...options, path: '/b/1.rdb'}).path).toBe('/b/1.rdb')
    expect(() => chooseRestorePoint(points, {...options, path: '/b/3.rdb'})).toThrow(/damaged \(size\)/)
    expect(() => chooseRestorePoint(points, {...options, path: '/b/4.rdb'})).toThrow(/not a complete backup/)
    expect(() => chooseRestorePoint(points, {...options, path: '/b/9.rdb'})).toThrow(/No backup at \/b\/9.rdb/)
    expect(() => chooseRestorePoint([], options)).toThrow(/no complete backup/)
  })
})
