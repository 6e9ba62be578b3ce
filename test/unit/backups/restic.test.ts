import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadInventory} from '../../../src/inventory/load.js'
import {renderCommand} from '../../../src/lib/shell.js'
import {backupLocations} from '../../../src/backups/locations.js'
import {mariadbResticRepo, parseResticSnapshots, parseShipSummary, RESTIC_INIT_LINE, resticShipCommand} from '../../../src/backups/restic.js'
import {
  listResticPointsCommand,
  parseResticPoints,
  resticDrillCommand,
  resticDrillRecordPath,
  resticFetchCommand,
  resticForgetCommand,
} from '../../../src/backups/restic-points.js'

const loaded = loadInventory(join(import.meta.dirname, '..', '..', '..', 'inventories', 'lab.yml'))
const repo = mariadbResticRepo(loaded.inventory)!
const id = 'd2dbfe2d' + 'a'.repeat(56)
const snapshot = (extra: object = {}) => ({
  id,
  short_id: id.slice(0, 8),
  time: '2026-12-06T20:52:52.123456789Z',
  paths: ['/var/lib/ctl-lab/h3/galera-backups/20261206T205247'],
  tags: ['ctl-mariadb', 'name=20261206T205247', `sha256=${'c'.repeat(64)}`, 'size=17833733'],
  ...extra,
})

describe('restic for offsite mariabackup backups', () => {
  it('names the S3 repository from backups.offsite, and none without it', () => {
    expect(repo).toEqual({
      url: 's3:https://198.18.0.1:9000/ctl-backups/restic/mariadb',
      where: 's3://ctl-backups/restic/mariadb',
      caFile: '/var/lib/ctl-lab/offsite/ca.crt',
    })
    expect(mariadbResticRepo({backups: {...loaded.inventory.backups, offsite: undefined}})).toBeUndefined()
  })

  it('ships with the keys read from stdin, never in the command, the backup tagged with its checksum and size', () => {
    const text = renderCommand(resticShipCommand(repo, '/b/20261206T205247', {name: '20261206T205247', checksum: 'c'.repeat(64), sizeBytes: 42}))
    expect(text).toContain('IFS= read -r AWS_ACCESS_KEY_ID && IFS= read -r AWS_SECRET_ACCESS_KEY && IFS= read -r RESTIC_PASSWORD')
    expect(text).toContain('--tag ctl-mariadb --tag name=20261206T205247 --tag sha256=')
    expect(text).toContain('--tag size=42 $pitr_tags /b/20261206T205247')
    // The binlog position and its time become tags when the backup has them (point-in-time restores from offsite).
    expect(text).toContain('pitr_tags="--tag binlog=$bl --tag point=$pt"')
    expect(text).toContain('--cacert /var/lib/ctl-lab/offsite/ca.crt')
    expect(text).not.toMatch(/offsite-(access|secret|encryption)/)
  })

  it('tags the binlog position and its time only when xtrabackup_binlog_info holds a plain position', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-ship-'))
    const script = renderCommand(resticShipCommand(repo, dir, {name: 'n', checksum: 'c'.repeat(64), sizeBytes: 1}))
    // Just the tagging line, run for real on a directory.
    const line = script.split('\n').find((l) => l.startsWith('pitr_tags='))!
    const tags = (info?: string) => {
      if (info === undefined) rmSync(join(dir, 'xtrabackup_binlog_info'), {force: true})
      else writeFileSync(join(dir, 'xtrabackup_binlog_info'), info)
      return execFileSync('sh', ['-c', `${line}\nprintf %s "$pitr_tags"`], {encoding: 'utf8'})
    }
    expect(tags('mariadb-bin.000003\t385\t0-1-12\n')).toMatch(/^--tag binlog=mariadb-bin\.000003:385 --tag point=\d+$/)
    expect(tags(undefined)).toBe('')
    expect(tags('$(reboot).000001\t5\n')).toBe('')
    rmSync(dir, {recursive: true})
  })

  it('reads the binlog tags back as a position and a time', () => {
    const [snap] = parseResticSnapshots([snapshot({tags: ['ctl-mariadb', 'name=x', 'binlog=mariadb-bin.000003:385', 'point=1796610590']})])
    expect(snap).toMatchObject({binlog: {file: 'mariadb-bin.000003', position: 385}, pointAt: '2026-12-07T02:29:50.000Z'})
    const [bad] = parseResticSnapshots([snapshot({tags: ['ctl-mariadb', 'binlog=../x:1', 'point=1796610590']})])
    expect(bad!.binlog).toBeUndefined()
  })

  it('reads the snapshot id from the summary line (restic 0.14 prints the short one)', () => {
    expect(parseShipSummary('{"message_type":"status"}\n{"message_type":"summary","snapshot_id":"108cc3cd"}\n')).toBe('108cc3cd')
    expect(parseShipSummary('{"message_type":"summary","snapshot_id":"../x"}')).toBeUndefined()
  })

  it('takes only ctl-tagged snapshots of one absolute directory, with the tags it wrote', () => {
    const snaps = parseResticSnapshots([snapshot(), snapshot({tags: ['other']}), snapshot({paths: ['a', 'b']}), snapshot({id: 'nothex'})])
    expect(snaps).toEqual([
      {
        id,
        time: '2026-12-06T20:52:52.123Z',
        path: '/var/lib/ctl-lab/h3/galera-backups/20261206T205247',
        name: '20261206T205247',
        checksum: 'c'.repeat(64),
        sizeBytes: 17833733,
      },
    ])
  })

  it('lists the offsite backups as encrypted, offsite restore points of their own series, with their drill records', () => {
    const location = backupLocations(loaded.inventory).find((l) => l.restic)!
    expect(location).toMatchObject({database: 'mariadb', dir: 's3://ctl-backups/restic/mariadb', nodes: ['h3']})
    const restic = location.restic!
    expect(renderCommand(listResticPointsCommand({...location, restic}))).toContain('/var/lib/ctl-lab/h3/galera-backups/ctl-offsite-drills/*.verify.json')
    const drill = Buffer.from(JSON.stringify({verifiedAt: '2026-12-07T00:00:00.000Z', outcome: 'passed', problems: []})).toString('base64')
    const out = `snapshots\t${Buffer.from(JSON.stringify([snapshot()])).toString('base64')}\ndrill\td2dbfe2d\t${drill}\n`
    const [point] = parseResticPoints('h3', out, {...location, restic})
    expect(point).toMatchObject({
      database: 'mariadb',
      series: 'mariadb@offsite',
      path: 's3://ctl-backups/restic/mariadb#d2dbfe2d',
      complete: true,
      encrypted: true,
      offsite: true,
      sizeBytes: 17833733,
      lastDrill: {outcome: 'passed'},
    })
    expect(resticDrillRecordPath(point!.restic!)).toBe('/var/lib/ctl-lab/h3/galera-backups/ctl-offsite-drills/d2dbfe2d.verify.json')
    const script = renderCommand(resticDrillCommand(point!.restic!))
    expect(script).toContain(`rst restore --no-lock --quiet --target "$r" ${id}`)
    // The mariabackup drill runs on the restored copy of the original directory.
    expect(script).toContain(`cd "$r"/var/lib/ctl-lab/h3/galera-backups/20261206T205247 && sha256sum --quiet --strict -c ctl-manifest.sha256`)
  })

  it('fetches into a private directory, checks the manifest, and only then renames it; refuses an existing name', () => {
    const restic = {snapshot: id, originalPath: '/old/galera-backups/20261206T205247', repo, drillDir: '/b/ctl-offsite-drills'}
    const script = renderCommand(resticFetchCommand(restic, '/b', '/b/20261206T205247'))
    const lines = script.split('\n')
    const at = (text: string) => lines.findIndex((l) => l.includes(text))
    expect(lines[at('exists already')]).toContain('[ ! -e /b/20261206T205247 ]')
    expect(at('rst restore')).toBeLessThan(at('sha256sum --quiet --strict -c ctl-manifest.sha256'))
    expect(at('sha256sum')).toBeLessThan(at('mv "$t"/old/galera-backups/20261206T205247 /b/20261206T205247'))
    expect(script).toContain('t=$(mktemp -d /b/.ctl-fetch-XXXXXX)')
  })

  it('forgets one snapshot by its id, pruning, and drops its drill record', () => {
    const script = renderCommand(resticForgetCommand({snapshot: id, originalPath: '/x', repo, drillDir: '/b/ctl-offsite-drills'}))
    expect(script).toContain(`rst forget --prune --quiet ${id}`)
    expect(script).toContain('rm -f /b/ctl-offsite-drills/d2dbfe2d.verify.json')
  })
})

describe('restic: the repository made once', () => {
  it('two jobs on a fresh repository at the same moment: one init, the other waits and finds it made', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-restic-init-'))
    // A stand-in for restic with a slow init: without the lock both runs see no config and both init.
    const fake = `rst() { case $1 in cat) [ -f ${dir}/config ] ;; init) sleep 0.5; [ -f ${dir}/config ] && return 1; echo x >> ${dir}/inits; touch ${dir}/config ;; esac; }`
    const run = () =>
      new Promise<number>((resolve) => {
        const child = spawn('sh', ['-c', `${fake}\n${RESTIC_INIT_LINE}\necho ok`], {env: {...process.env, TMPDIR: dir}})
        child.on('exit', (code) => resolve(code ?? -1))
      })
    expect(await Promise.all([run(), run()])).toEqual([0, 0])
    expect(readFileSync(join(dir, 'inits'), 'utf8')).toBe('x\n')
  })
})
