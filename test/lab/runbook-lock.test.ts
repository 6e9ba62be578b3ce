import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {findNode, loadInventory, type LoadedInventory} from '../../src/inventory/load.js'
import {SshPool} from '../../src/ssh/pool.js'
import {newLockInfo, takeOver, type LockTarget} from '../../src/locks/lock-run.js'
import {acquireRunbookLock} from '../../src/runbooks/lock.js'
import {galeraPaths} from '../../packages/lab/src/components/galera-files.js'
import {json, projectRoot, runCtl} from '../support/cli.js'
import {clusterUuid, ensureHealthy, host, members} from './support/galera.js'

// Runbook locks live on the lab hosts (lab hosts share this machine's file system, so the test
// looks at the lock directories directly; each host's lock carries the host in its name).
const LOCKS = '/var/lib/ctl/locks'
const galeraLock = (h: string) => `${LOCKS}/runbook-galera-lab.${h}.lock`
const tokenIn = (path: string) => (JSON.parse(readFileSync(join(path, 'info.json'), 'utf8')) as {id?: string}).id

function plantStale(path: string, info: object, minutesAgo: number): void {
  rmSync(path, {recursive: true, force: true})
  mkdirSync(path, {recursive: true})
  writeFileSync(join(path, 'info.json'), JSON.stringify(info))
  const then = new Date(Date.now() - minutesAgo * 60_000)
  utimesSync(path, then, then)
}

/** A second operator: own journal, state and audit log, other name. */
function otherOperator(name: string): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), `ctl-operator-${name}-`))
  return {CTL_STATE_DIR: join(dir, 'state'), XDG_STATE_HOME: join(dir, 'xdg'), CTL_AUDIT_LOG: join(dir, 'audit.log'), CTL_OPERATOR: name}
}

describe('runbook locks on the platform', () => {
  let loaded: LoadedInventory
  let pool: SshPool
  const clean = () => {
    for (const m of members) rmSync(galeraLock(m), {recursive: true, force: true})
    rmSync(`${LOCKS}/ctltest-takeover.lock`, {recursive: true, force: true})
  }

  beforeAll(async () => {
    clean()
    loaded = loadInventory(join(projectRoot, 'inventories', 'lab.yml'))
    pool = new SshPool(loaded)
    await ensureHealthy()
  })
  afterAll(() => {
    clean()
    pool?.dispose()
  })

  it('refuses a run from another operator (other state dir) while the cluster lock is held, naming the holder, and changes nothing', async () => {
    process.env.CTL_OPERATOR = 'alice'
    const held = await acquireRunbookLock(pool, loaded, 'mariadb-backup', 'mariadb-backup-lab-held')
    delete process.env.CTL_OPERATOR
    try {
      expect(held.targets.map((t) => t.node.name)).toEqual(['h1', 'h2', 'h3'])
      for (const m of members) expect(tokenIn(galeraLock(m)), m).toBe(held.info.id)
      const uuid = await clusterUuid()
      const pid = readFileSync(galeraPaths(host('h1')).pidFile, 'utf8')
      const bob = otherOperator('bob')
      const run = await runCtl(['runbook', 'galera-recover', 'lab', '--yes', '--json'], {env: bob})
      expect(run.exitCode, run.stderr).toBe(2)
      const error = json(run)
      expect(error.error).toBe('runbook.locked')
      expect(error.message).toMatch(
        /^galera-recover on lab refused: the lock is held by alice@\S+ since \d{4}-\d\d-\d\dT[\d:.]+Z \(0 min ago, last heartbeat \d+ s ago\), mariadb-backup run mariadb-backup-lab-held \(taken on 0 of 3 hosts, 2 needed; h1: held/,
      )
      expect(error.host).toBe('h1')
      expect(error.hint).toContain(`ssh h1 rm -rf ${galeraLock('h1')}`)
      // Nothing ran: no journal for bob, the member was not restarted, alice still holds every lock.
      expect(existsSync(join(bob.CTL_STATE_DIR, 'runs')) ? readdirSync(join(bob.CTL_STATE_DIR, 'runs')) : []).toEqual([])
      expect(readFileSync(galeraPaths(host('h1')).pidFile, 'utf8')).toBe(pid)
      expect(await clusterUuid()).toBe(uuid)
      for (const m of members) expect(tokenIn(galeraLock(m)), m).toBe(held.info.id)
      // A dry run takes no lock: it runs alongside.
      const dry = await runCtl(['runbook', 'galera-recover', 'lab', '--dry-run', '--json'], {env: otherOperator('carol')})
      expect(dry.exitCode, dry.stderr).toBe(0)
      expect(json(dry).outcome).toBe('dry-run')
    } finally {
      await held.release()
    }
    for (const m of members) expect(existsSync(galeraLock(m)), m).toBe(false)
    // Once released, bob's run takes the lock, runs (the cluster is healthy) and releases it.
    const again = await runCtl(['runbook', 'galera-recover', 'lab', '--yes', '--json'], {env: otherOperator('bob')})
    expect(again.exitCode, again.stderr).toBe(0)
    for (const m of members) expect(existsSync(galeraLock(m)), m).toBe(false)
  })

  it('takes over the lock of a run whose heartbeat stopped, and holds it with a majority', async () => {
    const dead = {
      id: 'dead-run-token',
      holder: 'dave',
      from: 'old-laptop',
      since: new Date(Date.now() - 20 * 60_000).toISOString(),
      env: 'lab',
      what: 'galera-recover run gone',
    }
    // A run that died 20 min ago (threshold 5 min) on two hosts: a majority is blocked until taken over.
    plantStale(galeraLock('h1'), dead, 20)
    plantStale(galeraLock('h2'), dead, 20)
    const run = await runCtl(['runbook', 'galera-recover', 'lab', '--yes', '--json'], {env: otherOperator('erin')})
    expect(run.exitCode, run.stderr).toBe(0)
    expect(json(run).outcome).toBe('ok')
    for (const m of members) expect(existsSync(galeraLock(m)), m).toBe(false)
    // The same lock with a live heartbeat (just touched) is not taken over.
    plantStale(galeraLock('h1'), dead, 0)
    plantStale(galeraLock('h2'), dead, 0)
    const refused = await runCtl(['runbook', 'galera-recover', 'lab', '--yes', '--json'], {env: otherOperator('erin')})
    expect(refused.exitCode).toBe(2)
    expect(json(refused).message).toMatch(/held by dave@old-laptop since .*\(20 min ago, last heartbeat \d+ s ago\), galera-recover run gone/)
    expect(tokenIn(galeraLock('h1'))).toBe('dead-run-token')
    expect(existsSync(galeraLock('h3'))).toBe(false)
    clean()
  })

  it('lets exactly one of 24 concurrent takers of a stale lock win over SSH, round after round', async () => {
    const pools = Array.from({length: 24}, () => new SshPool(loaded))
    const target: LockTarget = {node: findNode(loaded, 'h2'), dir: LOCKS, name: 'ctltest-takeover'}
    const path = `${LOCKS}/ctltest-takeover.lock`
    try {
      const rounds: number[] = []
      for (let round = 0; round < 6; round++) {
        plantStale(path, {id: `stale-${round}`, holder: 'gone', since: new Date(Date.now() - 3600_000).toISOString()}, 60)
        const started = Date.now()
        const outcomes = await Promise.all(
          pools.map((p, i) => takeOver(p, target, `stale-${round}`, {...newLockInfo('lab', 'takeover test'), id: `round${round}-taker${i}`}, 'take over')),
        )
        rounds.push(Date.now() - started)
        const winners = outcomes.flatMap((o, i) => (o.taken ? [`round${round}-taker${i}`] : []))
        expect(winners, `round ${round}`).toHaveLength(1)
        expect(tokenIn(path)).toBe(winners[0])
        // The losers saw the winner's lock (or the stale one being taken over), never an error.
        expect(outcomes.filter((o) => !o.taken && o.held && o.held.info.id !== winners[0] && o.held.info.id !== `stale-${round}`)).toEqual([])
        expect(readdirSync(LOCKS).filter((f) => f.startsWith('.ctltest-takeover'))).toEqual([])
      }
      console.log(`24 concurrent takers over SSH, 6 rounds: ${rounds.join(', ')} ms`)
    } finally {
      for (const p of pools) p.dispose()
    }
  })
})
