import {copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {recordCommand} from '../../src/galera/backup.js'
import {galeraPaths} from '../../packages/lab/src/components/galera-files.js'
import {labControl} from '../../packages/lab/src/components/galera.js'
import {runLocal} from '../../src/lib/local.js'
import {renderCommand} from '../../src/lib/shell.js'
import {json, runCtl} from '../support/cli.js'
import {control, ensureHealthy, expectHealthy, host, members, prepareTable, sql, writeRows} from './support/galera.js'

// mariadb-backup then mariadb-restore on the lab's real Galera cluster: the rows come back exactly
// as they were at backup time, on every member, and nothing of the old data is deleted.

const modeOf = (path: string) => statSync(path).mode & 0o777

/** Every file (not 0600) or directory (not 0700) under `dir`, with its mode. */
function notOwnerOnly(dir: string): string[] {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .map((e) => ({path: join(e.parentPath, e.name), want: e.isDirectory() ? 0o700 : 0o600}))
    .filter(({path, want}) => modeOf(path) !== want)
    .map(({path}) => `${path} ${modeOf(path).toString(8)}`)
}

const allRows = (on: (typeof members)[number]) => sql(on, 'SET SESSION wsrep_sync_wait = 1; SELECT id, v FROM ctl_test.rows ORDER BY id;')

/** Every entry (name, size, mtime) of a member's datadir and of the datadirs kept beside it. */
function datadirSnapshot(member: (typeof members)[number]): string[] {
  const datadir = galeraPaths(host(member)).datadir
  const kept = readdirSync(dirname(datadir)).filter((name) => name.startsWith(basename(datadir)))
  return kept
    .flatMap((name) => {
      const dir = join(dirname(datadir), name)
      return [
        name,
        ...readdirSync(dir, {recursive: true}).map((entry) => {
          const st = statSync(join(dir, String(entry)))
          return `${name}/${String(entry)} ${st.size} ${st.mtimeMs}`
        }),
      ]
    })
    .sort()
}

describe('mariadb-backup and mariadb-restore in the lab', () => {
  const cleanup: string[] = []
  beforeAll(async () => {
    await ensureHealthy()
    await prepareTable()
  })
  afterAll(async () => {
    await ensureHealthy()
    for (const path of cleanup) rmSync(path, {recursive: true, force: true})
  })

  it('backs up the backup node, then restores the whole cluster to the rows of backup time', async () => {
    await writeRows('h1', 'in-backup', 30)
    const atBackup = await allRows('h1')

    const backup = await runCtl(['runbook', 'mariadb-backup', 'lab', '--yes', '--json'], {timeoutMs: 600_000})
    expect(backup.exitCode, backup.stderr).toBe(0)
    const b = json(backup).summary
    cleanup.push(b.backup)
    // The inventory's backup node, with size, checksum and position recorded.
    expect(b.node).toBe('h3')
    expect(b.backup).toMatch(/^\/var\/lib\/ctl-lab\/h3\/galera-backups\/\d{8}T\d{6}$/)
    expect(b.checksum).toMatch(/^[0-9a-f]{64}$/)
    expect(b.sizeBytes).toBeGreaterThan(1_000_000)
    expect(b.position.uuid).toBe((await sql('h1', "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_state_uuid'")).split('\t')[1])
    expect(existsSync(join(b.backup, 'xtrabackup_checkpoints'))).toBe(true)
    expect(readFileSync(join(b.backup, 'xtrabackup_checkpoints'), 'utf8')).toMatch(/backup_type = (log-applied|full-prepared)/)
    // A backup holds every row: owner-only, like the keys file (0700 directories, 0600 files, the manifest too).
    expect(modeOf(dirname(b.backup))).toBe(0o700)
    expect(modeOf(b.backup)).toBe(0o700)
    expect(notOwnerOnly(b.backup)).toEqual([])
    expect(modeOf(join(b.backup, 'ctl-manifest.sha256'))).toBe(0o600)

    // Writes after the backup: the restore takes them out of service.
    await writeRows('h2', 'after-backup', 15)
    await sql('h1', "DELETE FROM ctl_test.rows WHERE v LIKE 'in-backup-1%';")
    expect(await allRows('h3')).not.toBe(atBackup)

    const restore = await runCtl(['runbook', 'mariadb-restore', 'lab', '--from', b.backup, '--yes', '--json'], {timeoutMs: 900_000})
    const r = json(restore)
    expect(restore.exitCode, `${restore.stderr}\n${JSON.stringify(r.error)}`).toBe(0)
    expect(r.summary.checksum).toBe(b.checksum)
    expect(r.summary.verification).toMatchObject({primary: true, size: 3, allSynced: true, uuidUnchanged: true, probe: {found: true}})
    for (const m of members) expect(await allRows(m), `${m} rows`).toBe(atBackup)

    // Old datadirs moved aside, never deleted: the post-backup rows are still on disk there.
    expect(Object.keys(r.summary.movedAside).sort()).toEqual(['h1', 'h2', 'h3'])
    for (const path of Object.values<string>(r.summary.movedAside)) {
      expect(existsSync(join(path, 'ibdata1')), path).toBe(true)
      expect(modeOf(path) & 0o077, path).toBe(0)
      cleanup.push(path)
    }
    const digest = await sql('h1', "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT(id, ':', v))), 0) FROM ctl_test.rows;")
    await expectHealthy(b.position.uuid, digest)
  })

  it('refuses a backup that does not match its manifest, before stopping anything', async () => {
    const backup = await runCtl(['runbook', 'mariadb-backup', 'lab', '--yes', '--json'], {timeoutMs: 600_000})
    expect(backup.exitCode, backup.stderr).toBe(0)
    const dir = json(backup).summary.backup as string
    cleanup.push(dir)
    const manifest = join(dir, 'ctl-manifest.sha256')
    const text = readFileSync(manifest, 'utf8')
    const {writeFileSync} = await import('node:fs')
    writeFileSync(
      manifest,
      text.replace(/^[0-9a-f]/m, (c) => (c === '0' ? '1' : '0')),
    )
    const restore = await runCtl(['runbook', 'mariadb-restore', 'lab', '--from', dir, '--yes', '--json'], {timeoutMs: 120_000})
    expect(restore.exitCode).toBe(2)
    expect(json(restore).error.code).toBe('mariadb.backup-corrupt')
    for (const m of members) expect((await sql(m, "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'")).split('\t')[1], m).toBe('Synced')
  })

  it('after a failed copy-back, --resume asks again (no terminal, no --yes: exit 2, nothing touched) and refuses while mariadbd runs on a member', async () => {
    await writeRows('h1', 'resume-case', 12)
    const atBackup = await allRows('h1')
    const backup = await runCtl(['runbook', 'mariadb-backup', 'lab', '--yes', '--json'], {timeoutMs: 600_000})
    expect(backup.exitCode, backup.stderr).toBe(0)
    const good = json(backup).summary.backup as string
    cleanup.push(good)
    // A copy that passes every check of the plan (manifest, prepared, Galera position) but whose
    // --copy-back fails: its redo log is missing (the manifest is written again without it).
    const broken = `${good}-no-redo-log`
    cleanup.push(broken)
    expect((await runLocal(['cp', '-a', good, broken])).code).toBe(0)
    expect(existsSync(join(broken, 'ib_logfile0'))).toBe(true)
    rmSync(join(broken, 'ib_logfile0'))
    expect((await runLocal(['sh', '-c', renderCommand(recordCommand(broken))])).code).toBe(0)
    const env = {CTL_STATE_DIR: mkdtempSync(join(tmpdir(), 'ctl-restore-resume-'))}
    cleanup.push(env.CTL_STATE_DIR)
    const restore = (...args: string[]) => runCtl(['runbook', 'mariadb-restore', 'lab', '--from', broken, '--json', ...args], {env, timeoutMs: 900_000})
    const keptDirs = () =>
      members.flatMap((m) =>
        readdirSync(dirname(galeraPaths(host(m)).datadir))
          .filter((n) => n.includes('.before-restore-'))
          .map((n) => join(dirname(galeraPaths(host(m)).datadir), n)),
      )

    let standalone = false
    try {
      const first = await restore('--yes')
      const f = json(first)
      expect(first.exitCode, first.stderr).toBe(1)
      expect(f.outcome).toBe('failed')
      expect(f.error.step).toBe('restore-datadir')
      expect(f.error.hint).toContain('--resume')
      expect(f.error.hint).not.toMatch(/--resume --yes/)
      for (const m of members) expect((await control(m, 'status')).code, `${m} runs`).not.toBe(0)
      const before = members.map((m) => datadirSnapshot(m))

      // No terminal and no --yes: the resumed run asks again, so it stops (exit 2) before acting.
      const asked = await restore('--resume')
      const a = json(asked)
      expect(asked.exitCode, asked.stderr).toBe(2)
      expect(a.outcome).toBe('stopped')
      expect(a.error.step).toBe('restore-datadir')
      expect(a.error.message).toContain("the first run's answers do not carry over")
      expect(a.error.message).toContain('Return the WHOLE cluster')
      expect(members.map((m) => datadirSnapshot(m))).toEqual(before)
      for (const m of members) expect((await control(m, 'status')).code, `${m} runs`).not.toBe(0)

      // Someone started mariadbd on h1 meanwhile: the restore step refuses, naming it, even with --yes.
      standalone = true
      expect((await labControl(host('h1'), 'start', ['--wsrep-provider=none'])).code).toBe(0)
      const refused = await restore('--resume', '--yes')
      const r = json(refused)
      expect(refused.exitCode, refused.stderr).toBe(2)
      expect(r.error).toMatchObject({code: 'mariadb.member-running', host: 'h1', step: 'restore-datadir'})
      expect(r.error.message).toContain('mariadbd runs on h1')
      expect(datadirSnapshot('h3')).toEqual(before[2])
      expect(datadirSnapshot('h2')).toEqual(before[1])
      expect((await control('h1', 'stop')).code).toBe(0)
      standalone = false

      // The backup mended, the resumed run finishes the restore.
      copyFileSync(join(good, 'ib_logfile0'), join(broken, 'ib_logfile0'))
      expect((await runLocal(['sh', '-c', renderCommand(recordCommand(broken))])).code).toBe(0)
      const finished = await restore('--resume', '--yes')
      const done = json(finished)
      expect(finished.exitCode, `${finished.stderr}\n${JSON.stringify(done.error)}`).toBe(0)
      expect(done.resumed).toBe(true)
      expect(done.summary.verification).toMatchObject({primary: true, size: 3, allSynced: true, probe: {found: true}})
      for (const m of members) expect(await allRows(m), `${m} rows`).toBe(atBackup)
    } finally {
      if (standalone) await control('h1', 'stop')
      cleanup.push(...keptDirs())
    }
  })
})
