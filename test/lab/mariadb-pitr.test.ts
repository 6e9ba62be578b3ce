import {execa} from 'execa'
import {randomUUID} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {ensureHealthy, sql} from './support/galera.js'

// MariaDB point-in-time restore on the lab's Galera cluster: writes run while mariadb-backup takes a
// backup on h3 and after it; a restore to a time between two writes replays h3's binary logs from the
// backup's position and holds exactly the rows committed before that time. Binary-log events carry
// whole seconds, so the writes around the target are more than a second apart.

const DB = 'ctl_pitr'
const BACKUPS = '/var/lib/ctl-lab/h3/galera-backups'
const AWAY = `${BACKUPS}.away-pitr-test`
let nextId = 0
const write = async () => {
  const id = ++nextId
  await sql('h1', `INSERT INTO ${DB}.w (id) VALUES (${id})`)
  return id
}
const scratchDirs = () => readdirSync('/var/tmp').filter((d) => d.startsWith('ctl-mpitr-'))

async function scratchSql(dir: string, statement: string): Promise<string> {
  const r = await execa('mariadb', ['--no-defaults', `--socket=${dir}/sock`, '-N', '-B', '-e', statement], {reject: false})
  if (r.exitCode !== 0) throw new Error(`scratch mariadb failed: ${r.stderr}`)
  return String(r.stdout).trim()
}

describe('MariaDB point-in-time restore (mariabackup + binary logs)', () => {
  const removals: string[] = []
  let lastBefore = 0
  let target = ''

  beforeAll(async () => {
    await ensureHealthy()
    await sql(
      'h1',
      `DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}; CREATE TABLE ${DB}.w (id INT PRIMARY KEY, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB;`,
    )
  })

  afterAll(async () => {
    for (const command of removals) await execa('sh', ['-c', command], {reject: false})
    await sql('h1', `DROP DATABASE IF EXISTS ${DB}`)
  })

  it('takes a backup while writes go on; the members log every transaction (log_bin, log_slave_updates)', async () => {
    expect(await sql('h3', 'SELECT @@log_bin, @@log_slave_updates')).toBe('1\t1')
    let writing = true
    const writer = (async () => {
      while (writing) {
        await write()
        await sleep(50)
      }
    })()
    try {
      const run = await runCtl(['runbook', 'mariadb-backup', 'lab', '--yes', '--json'])
      expect(run.exitCode, run.stderr).toBe(0)
      await sleep(1500)
    } finally {
      writing = false
      await writer
    }
    // A gap of more than a second on each side of the target: the binary log's clock has whole seconds.
    lastBefore = await write()
    await sleep(1500)
    target = new Date().toISOString()
    await sleep(1500)
    for (let i = 0; i < 5; i++) await write()
  })

  it('restores to a time between two writes: exactly the rows committed before it, none after', async () => {
    const run = await runCtl(['runbook', 'mariadb-restore', 'lab', '--at', target, '--yes', '--json'])
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    removals.push(result.summary.scratch.remove)
    expect(result.summary.scratch.node).toBe('h3')
    expect(result.summary.rows[`${DB}.w`]).toBe(lastBefore)
    expect(await scratchSql(result.summary.scratch.dir, `SELECT COUNT(*), MIN(id), MAX(id) FROM ${DB}.w`)).toBe(`${lastBefore}\t1\t${lastBefore}`)
    // Production is untouched: every row is still there.
    expect(await sql('h2', `SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*) FROM ${DB}.w`)).toBe(String(nextId))
  })

  it('archives the binary logs offsite; with the backups and the archive gone from the node, restores from offsite alone', async () => {
    const archive = json(await runCtl(['runbook', 'mariadb-binlog-archive', 'lab', '--yes', '--json']))
    expect(archive.outcome, JSON.stringify(archive.error)).toBe('ok')
    expect(archive.summary.archive).toBe(`${BACKUPS}/.ctl-binlogs/h3`)
    expect(archive.summary.offsite.snapshot).toMatch(/^[0-9a-f]{8,}$/)
    const archived = nextId
    // Written after the last archive run: what a loss of everything at this moment loses (the RPO).
    for (let i = 0; i < 3; i++) await write()
    renameSync(BACKUPS, AWAY)
    // Another operator's recovery holds the cluster's run lock: a restore into a scratch server does not need it.
    const locks = ['h1', 'h2', 'h3'].map((h) => `/var/lib/ctl/locks/runbook-galera-lab.${h}.lock`)
    const info = {
      id: randomUUID(),
      holder: 'other',
      from: hostname(),
      since: new Date().toISOString(),
      env: 'lab',
      what: 'galera-recover run x',
      pid: process.pid,
      run: 'x',
    }
    for (const dir of locks) {
      mkdirSync(dir, {recursive: true})
      writeFileSync(`${dir}/info.json`, JSON.stringify(info))
    }
    try {
      const at = json(await runCtl(['runbook', 'mariadb-restore', 'lab', '--at', target, '--repo', 'offsite', '--yes', '--json']))
      expect(at.outcome, JSON.stringify(at.error)).toBe('ok')
      removals.push(at.summary.scratch.remove)
      expect(at.summary.snapshot).toMatch(/^[0-9a-f]{64}$/)
      expect(at.summary.rows[`${DB}.w`]).toBe(lastBefore)
      expect(await scratchSql(at.summary.scratch.dir, `SELECT COUNT(*), MIN(id), MAX(id) FROM ${DB}.w`)).toBe(`${lastBefore}\t1\t${lastBefore}`)
      // The fetched copies are gone; nothing came back into the node's backup directory.
      expect(existsSync(`${at.summary.scratch.dir}.fetch`)).toBe(false)
      expect(existsSync(BACKUPS)).toBe(false)

      const latest = json(await runCtl(['runbook', 'mariadb-restore', 'lab', '--at', 'latest', '--repo', 'offsite', '--yes', '--json']))
      expect(latest.outcome, JSON.stringify(latest.error)).toBe('ok')
      removals.push(latest.summary.scratch.remove)
      expect(await scratchSql(latest.summary.scratch.dir, `SELECT COUNT(*), MAX(id) FROM ${DB}.w`)).toBe(`${archived}\t${archived}`)
    } finally {
      renameSync(AWAY, BACKUPS)
      for (const dir of locks) rmSync(dir, {recursive: true, force: true})
    }
  })

  it('refuses a time before the oldest backup, a future time and a time it cannot read, creating nothing', async () => {
    const dirs = scratchDirs()
    for (const [at, code] of [
      ['2000-01-01 00:00:00Z', 'mariadb.target-too-old'],
      [new Date(Date.now() + 3_600_000).toISOString(), 'mariadb.future-target'],
    ] as const) {
      const run = await runCtl(['runbook', 'mariadb-restore', 'lab', '--at', at, '--yes', '--json'])
      expect(run.exitCode).toBe(2)
      expect(json(run).error.code).toBe(code)
    }
    const bad = await runCtl(['runbook', 'mariadb-restore', 'lab', '--at', '`reboot`', '--yes'])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/--at needs a time/)
    expect(scratchDirs()).toEqual(dirs)
  })
})
