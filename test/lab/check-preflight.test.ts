import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {isAbsolute, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {parse as parseYaml, stringify as stringifyYaml} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {labVaultKeysFile} from '../../packages/lab/src/components/vault.js'
import type {PreflightReport} from '../../src/checks/report.js'
import type {CheckResult} from '../../src/checks/types.js'
import {json, projectRoot, runCtl, type CliRun} from '../support/cli.js'
import {labInventoryCopy} from './support/swarm.js'
import {expectStatusListsFirst, labStatus} from './support/status.js'

// `ctl check preflight` against the real lab: all pass when healthy; after each `ctl lab break`
// scenario the right check fails with its hint while the others still report; exit codes 0/1/2.
// Every test that breaks something repairs it with `ctl lab up` and waits until the check passes again.

const LAB = 'lab'
/** The root token `ctl vault init lab` wrote (none yet before init: the vault check then warns). */
const vaultEnv = (): Record<string, string> => {
  const file = labVaultKeysFile(projectRoot)
  return existsSync(file) ? {VAULT_TOKEN: JSON.parse(readFileSync(file, 'utf8')).root_token} : {}
}

async function preflight(args: string[], env: Record<string, string> = vaultEnv()): Promise<{run: CliRun; report: PreflightReport}> {
  const run = await runCtl(['check', ...args, '--json'], {env, timeoutMs: 180_000})
  return {run, report: json<PreflightReport>(run)}
}
const rows = (report: PreflightReport, check: string): CheckResult[] => report.results.filter((r) => r.check === check)
/** The rest of the platform still reports: every check has its rows, none of them cut short by a time budget. */
function othersStillReport(report: PreflightReport): void {
  expect(report.checks).toHaveLength(21)
  for (const check of report.checks) expect(rows(report, check).length, check).toBeGreaterThan(0)
  expect(report.results.filter((r) => r.detail.startsWith('timed out'))).toEqual([])
}
const row = (report: PreflightReport, check: string, target: string): CheckResult => {
  const found = report.results.find((r) => r.check === check && r.target === target)
  if (!found) throw new Error(`no ${check}/${target} row in:\n${JSON.stringify(report.results, null, 1)}`)
  return found
}
// On a saturated machine SSH round trips take seconds and clock-skew honestly warns it cannot tell;
// the lab's hosts share one clock, so any other clock-skew outcome is a real problem.
const cannotTell = (r: CheckResult) => r.check === 'clock-skew' && r.status === 'warn' && r.detail.endsWith('too slow to tell')
const problems = (report: PreflightReport) =>
  report.results.filter((r) => r.status !== 'pass' && r.status !== 'skip' && !cannotTell(r)).map((r) => `${r.check} ${r.target} ${r.status}: ${r.detail}`)

async function ctlOk(args: string[], timeoutMs = 600_000): Promise<void> {
  const run = await runCtl(args, {env: vaultEnv(), timeoutMs})
  if (run.exitCode !== 0) throw new Error(`ctl ${args.join(' ')} exited ${run.exitCode}:\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`)
}

/**
 * Breaks the lab with a scenario, after noting which rows of `checks` pass now: `repair` waits until
 * those pass again (problems someone else left on the shared lab are not this test's to wait for).
 */
async function breakLab(scenario: string[], checks: string[]): Promise<PreflightReport> {
  const {report: baseline} = await preflight(['run', LAB, ...checks])
  await ctlOk(['lab', 'break', ...scenario, '--yes'])
  return baseline
}

/** Vault as an operator leaves it: initialized once, unsealed with the lab's keys after a restart. */
async function openVault(): Promise<void> {
  const vault = await preflight(['run', LAB, 'vault'])
  if (rows(vault.report, 'vault').some((r) => r.detail.startsWith('not initialized'))) await ctlOk(['vault', 'init', LAB, '--yes'])
  if (rows(vault.report, 'vault').some((r) => r.detail.startsWith('sealed')))
    await ctlOk(['vault', 'unseal', LAB, '--keys-file', labVaultKeysFile(projectRoot)])
}

/**
 * What a passing row stands for: its check and target. Patroni's member rows are named after the
 * members that are replicas *now*: after a failover the new leader's row is `leader`, the old one a
 * member's, so the repair counts passing member rows instead of naming them.
 */
function repairKey(r: CheckResult): string {
  return r.check === 'patroni' && r.target !== 'leader' ? 'patroni <a replica>' : `${r.check} ${r.target}`
}

/** `lab up` restarts what died and Vault is unsealed; then waits for the rows that passed before the break. */
async function repair(baseline: PreflightReport, timeoutMs = 240_000): Promise<void> {
  // `lab up` exits 1 when any component fails, perhaps one another test broke: what counts is below.
  await runCtl(['lab', 'up', '--json'], {timeoutMs: 600_000})
  await openVault()
  const wanted = baseline.results.filter((r) => r.status === 'pass').map(repairKey)
  const deadline = Date.now() + timeoutMs
  let lastUp = Date.now()
  for (;;) {
    const {report} = await preflight(['run', LAB, ...baseline.checks])
    const passing = report.results.filter((r) => r.status === 'pass').map(repairKey)
    const missing = wanted.filter((w) => {
      const at = passing.indexOf(w)
      if (at >= 0) passing.splice(at, 1)
      return at < 0
    })
    if (missing.length === 0) return
    if (Date.now() > deadline) {
      const status = await runCtl(['lab', 'status'], {timeoutMs: 120_000})
      throw new Error(`the lab did not recover: ${missing.join(', ')}\n${problems(report).join('\n')}\nctl lab status:\n${status.stdout}${status.stderr}`)
    }
    // A member restarted while its cluster was still electing (e.g. Patroni's failover after the
    // leader's loss) may need a second pass, as the lab's hint says: `ctl lab up` again.
    if (Date.now() - lastUp > 60_000) {
      await runCtl(['lab', 'up', '--json'], {timeoutMs: 600_000})
      await openVault()
      lastUp = Date.now()
    }
    await sleep(3000)
  }
}

/** A copy of lab.yml with absolute paths and backups in `backupRoot` (the stale-backup test ages its own files only). */
function inventoryWithBackupsIn(backupRoot: string): string {
  const inventoriesDir = join(projectRoot, 'inventories')
  const abs = (p: string) => (isAbsolute(p) || p.startsWith('~') ? p : join(inventoriesDir, p))
  const secret = (ref?: string) => (ref?.startsWith('file:') ? `file:${abs(ref.slice(5))}` : ref)
  const inv = parseYaml(readFileSync(join(inventoriesDir, 'lab.yml'), 'utf8'))
  inv.ssh.key = abs(inv.ssh.key)
  inv.ssh.knownHosts = abs(inv.ssh.knownHosts)
  for (const stack of inv.stacks ?? []) stack.files = stack.files.map(abs)
  for (const registry of inv.registries ?? []) registry.password = secret(registry.password)
  for (const db of ['galera', 'patroni']) {
    if (!inv.databases?.[db]) continue
    inv.databases[db].password = secret(inv.databases[db].password)
    inv.databases[db].backupDir = join(backupRoot, db)
  }
  // The stale-backup test ages its own files; the pgBackRest repository is the lab's.
  if (inv.databases?.patroni) delete inv.databases.patroni.pgbackrest
  // Redis's and RabbitMQ's backups are the lab's too (test/lab/redis-backups.test.ts).
  for (const db of ['redis', 'rabbitmq']) if (inv.databases?.[db]) delete inv.databases[db].backupDir
  if (inv.vault?.keysFile) inv.vault.keysFile = abs(inv.vault.keysFile)
  const file = join(mkdtempSync(join(tmpdir(), 'ctl-check-')), 'lab.yml')
  writeFileSync(file, stringifyYaml(inv))
  return file
}

describe('ctl check against the lab', () => {
  beforeAll(async () => {
    // The platform the checks expect: swarm formed and labelled, the app deployed, backups taken,
    // Vault unsealed. Whether it all really is healthy is the first test's question.
    await runCtl(['lab', 'up', '--json'], {timeoutMs: 600_000})
    await ctlOk(['node', 'bootstrap', LAB, '--yes'])
    await ctlOk(['node', 'label', LAB, '--yes'])
    const {report} = await preflight(['run', LAB, 'service-health', 'backups', 'backups-offsite'])
    if (rows(report, 'service-health').some((r) => r.status !== 'pass')) await ctlOk(['deploy', LAB, '--yes'])
    if (row(report, 'backups', 'mariadb').status !== 'pass') await ctlOk(['runbook', 'mariadb-backup', LAB, '--yes'])
    if (row(report, 'backups', 'postgres').status !== 'pass') await ctlOk(['runbook', 'pg-backup', LAB, '--yes'])
    if (row(report, 'backups', 'pgbackrest').status !== 'pass' || row(report, 'backups-offsite', 'pgbackrest').status !== 'pass') {
      await ctlOk(['runbook', 'pgbackrest-setup', LAB, '--yes'])
      await ctlOk(['runbook', 'pgbackrest-backup', LAB, '--yes'])
      await ctlOk(['runbook', 'pgbackrest-backup', LAB, '--repo', 'offsite', '--yes'])
    }
    // mariadb-backup ships each backup offsite.
    if (row(report, 'backups-offsite', 'mariadb').status !== 'pass') await ctlOk(['runbook', 'mariadb-backup', LAB, '--yes'])
    if (row(report, 'backups', 'redis').status !== 'pass') await ctlOk(['runbook', 'redis-backup', LAB, '--yes'])
    if (row(report, 'backups', 'rabbitmq').status !== 'pass') await ctlOk(['runbook', 'rabbitmq-backup', LAB, '--yes'])
    await openVault()
    // A server an earlier test stopped comes back with `lab up`; give the services that moment
    // (and one more `lab up`) before asking whether the platform is healthy.
    const deadline = Date.now() + 90_000
    for (let round = 1; Date.now() < deadline; round++) {
      const {report: health} = await preflight(['run', LAB, 'service-health'])
      if (rows(health, 'service-health').every((r) => r.status === 'pass')) break
      if (round % 10 === 0) await runCtl(['lab', 'up', '--json'], {timeoutMs: 600_000})
      await sleep(3000)
    }
  })

  afterAll(async () => {
    await runCtl(['lab', 'up', '--json'], {timeoutMs: 600_000})
  })

  it('passes every check on the healthy lab, exit 0, one table row per check and target', async () => {
    const {run, report} = await preflight(['preflight', LAB])
    expect(problems(report)).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(report.exitCode).toBe(0)
    expect(report.checks).toEqual([
      'ssh',
      'docker-engine',
      'disk-free',
      'memory',
      'clock-skew',
      'swarm-ports',
      'swarm',
      'registry-pull',
      'node-labels',
      'placement',
      'service-health',
      'galera',
      'galera-replica',
      'patroni',
      'etcd',
      'rabbitmq',
      'redis',
      'vault',
      'backups',
      'backups-offsite',
      'tls-expiry',
    ])
    expect(row(report, 'backups-offsite', 'mariadb').detail).toMatch(/^newest offsite s3:\/\/ctl-backups\/restic\/mariadb#[0-9a-f]{8}, /)
    expect(row(report, 'backups-offsite', 'pgbackrest').detail).toMatch(/^newest offsite s3:\/\/ctl-backups\/pgbackrest\/backup\/ctl-lab\/\d{8}-\d{6}F/)
    // The backup host h4 is a node (SSH, disk, memory, clock) outside the Swarm.
    for (const check of ['ssh', 'disk-free', 'memory', 'clock-skew']) expect(rows(report, check).map((r) => r.target)).toEqual(['h1', 'h2', 'h3', 'h4'])
    for (const check of ['docker-engine', 'swarm-ports', 'registry-pull']) expect(rows(report, check).map((r) => r.target)).toEqual(['h1', 'h2', 'h3'])
    expect(row(report, 'galera-replica', 'h4')).toMatchObject({status: 'pass', detail: expect.stringContaining('replicating from 198.18.0.11:3306')})
    expect(rows(report, 'galera').map((r) => r.detail)).toEqual(['Primary, Synced, size 3/3', 'Primary, Synced, size 3/3', 'Primary, Synced, size 3/3'])
    expect(rows(report, 'redis').map((r) => r.target)).toEqual(['h1', 'h2', 'h3'])
    expect(rows(report, 'rabbitmq').map((r) => r.target)).toEqual(['h1', 'h2', 'h3'])
    expect(row(report, 'tls-expiry', '-')).toMatchObject({status: 'skip', detail: 'no tls.endpoints in the inventory'})

    const table = await runCtl(['check', 'preflight', LAB], {env: vaultEnv(), timeoutMs: 180_000})
    expect(table.exitCode).toBe(0)
    expect(table.stdout).toMatch(/^galera +h1 +ok +Primary, Synced, size 3\/3$/m)
    expect(table.stdout).toMatch(/passed, \d+ warnings?, 0 failed, 0 could not run, 1 skipped → fit to deploy \(exit 0\)$/m)
  })

  it('ctl status on the healthy lab: no problem, exit 0, every part filled in; plain text without a terminal; --watch redraws', async () => {
    const {run, report} = await labStatus()
    expect(report.problems).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(report.nodes.map((n) => [n.name, n.reachable, n.state ?? '-'])).toEqual([
      ['h1', true, 'ready'],
      ['h2', true, 'ready'],
      ['h3', true, 'ready'],
      ['h4', true, '-'],
    ])
    expect(report.nodes.filter((n) => n.leader)).toHaveLength(1)
    const app = report.services.find((s) => s.name === 'app')!
    expect(app).toMatchObject({swarmName: 'app_app', image: expect.stringMatching(/^(\S+\/)?ctl-lab\/app:/), running: 2, desired: 2, health: 'pass'})
    expect(app.lastRelease).toMatchObject({kind: expect.any(String), who: expect.any(String)})
    expect(report.clusters.map((c) => `${c.name} ${c.state}`)).toEqual([
      'swarm ok',
      'etcd ok',
      'patroni ok',
      'galera ok',
      'galera backup replica ok',
      'redis ok',
      'rabbitmq ok',
      'vault ok',
    ])
    for (const name of ['swarm', 'patroni', 'redis', 'vault'])
      expect(report.clusters.find((c) => c.name === name)!.leader, name).toMatch(/^(pg-)?h[123]$|^198\.18\./)
    expect(report.backups.map((b) => b.component)).toEqual(expect.arrayContaining(['mariadb', 'postgres', 'redis', 'rabbitmq']))
    expect(report.locks).toEqual([])

    const text = await runCtl(['status', LAB], {env: vaultEnv(), timeoutMs: 120_000})
    expect(text.exitCode).toBe(0)
    expect(text.stdout).toMatch(/^ctl status lab .* no problems$/m)
    expect(text.stdout).not.toContain('\u001B[')
    expect(text.stdout).toMatch(/^CLUSTERS$/m)
    expect(text.stdout).toMatch(/^ {2}galera +ok +Primary, Synced, size 3\/3 \(all 3 ok\)$/m)
    const coloured = await runCtl(['status', LAB], {env: {...vaultEnv(), FORCE_COLOR: '1'}, timeoutMs: 120_000})
    expect(coloured.stdout).toContain('\u001B[32mno problems')
    const plain = await runCtl(['status', LAB, '--no-color'], {env: {...vaultEnv(), FORCE_COLOR: '1'}, timeoutMs: 120_000})
    expect(plain.stdout).not.toContain('\u001B[')

    // --watch: one JSON line per round until interrupted.
    const watched = await runCtl(['status', LAB, '--watch', '--interval', '1', '--json'], {env: vaultEnv(), timeoutMs: 15_000})
    const rounds = watched.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as {env: string; problems: unknown[]; backups: {component: string; detail: string}[]})
    expect(rounds.length).toBeGreaterThanOrEqual(2)
    for (const round of rounds) expect(round).toMatchObject({env: 'lab', problems: []})
    // The passing offsite rows are listed once a minute, not every round (restic's key derivation).
    const offsite = (round: (typeof rounds)[number]) => round.backups.filter((b) => b.component.endsWith(' offsite')).map((b) => b.detail)
    expect(offsite(rounds[0]!).length).toBeGreaterThan(0)
    for (const detail of offsite(rounds[0]!)) expect(detail).not.toMatch(/s ago\)$/)
    for (const detail of offsite(rounds[1]!)) expect(detail).toMatch(/\(read \d+ s ago\)$/)
  })

  it('fails the backups-offsite check when the newest offsite copy is older than the offsite RPO', async () => {
    const strict = labInventoryCopy((inv) => {
      inv.backups.offsite.rpoHours = 0.0001
    })
    const {run, report} = await preflight(['run', strict, 'backups-offsite'])
    expect(run.exitCode).toBe(1)
    for (const target of ['mariadb', 'pgbackrest']) {
      expect(row(report, 'backups-offsite', target)).toMatchObject({status: 'fail', detail: expect.stringMatching(/old \(offsite RPO 0.0001 h\)$/)})
    }
  })

  it('warns without a Vault token (exit 0) and fails on the warning with --strict (exit 1)', async () => {
    const loose = await preflight(['run', LAB, 'vault'], {})
    expect(row(loose.report, 'vault', 'raft')).toMatchObject({status: 'warn'})
    expect(row(loose.report, 'vault', 'raft').hint).toContain('VAULT_TOKEN')
    expect(loose.run.exitCode).toBe(0)
    const strict = await preflight(['run', LAB, 'vault', '--strict'], {})
    expect(strict.run.exitCode).toBe(1)
  })

  it('fails the backups check when the newest complete backup is older than the RPO; an unfinished newer one does not count', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ctl-check-backups-'))
    const inventory = inventoryWithBackupsIn(root)
    // Backups as the runbooks leave them: a mariabackup directory with ctl's manifest, a dump with its record.
    const stamp = (d: Date) =>
      d
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, '')
    const now = new Date()
    const mariaBackup = (at: Date, complete: boolean) => {
      mkdirSync(join(root, 'galera', stamp(at)), {recursive: true})
      if (complete) writeFileSync(join(root, 'galera', stamp(at), 'ctl-manifest.sha256'), 'x\n')
      return join(root, 'galera', stamp(at))
    }
    const dump = join(root, 'patroni', `ctl-lab-app-${stamp(now)}.dump`)
    mkdirSync(join(root, 'patroni'))
    writeFileSync(dump, 'x')
    writeFileSync(`${dump}.json`, JSON.stringify({database: 'app', sha256: 'a'.repeat(64), sizeBytes: 1, startedAt: now.toISOString()}))
    const fresh = mariaBackup(now, true)
    const freshRun = await preflight(['run', inventory, 'backups'])
    expect(freshRun.report.results.map((r) => r.status)).toEqual(['pass', 'pass'])

    rmSync(fresh, {recursive: true})
    const old = mariaBackup(new Date(now.getTime() - 48 * 3600_000), true)
    mariaBackup(now, false)
    const stale = await preflight(['run', inventory, 'backups'])
    expect(stale.run.exitCode).toBe(1)
    expect(row(stale.report, 'backups', 'mariadb')).toMatchObject({
      status: 'fail',
      detail: `newest h3:${old}, 48.0 h old (RPO 24 h); 1 newer unfinished or damaged, not counted`,
    })
    expect(row(stale.report, 'backups', 'mariadb').hint).toContain('ctl runbook mariadb-backup lab')
    expect(row(stale.report, 'backups', 'postgres').status).toBe('pass')
  })

  it('node-down: ssh fails for that host with a hint, its other checks could not run, the other hosts still report', async () => {
    // Repair waits for the host-level rows and the clusters that heal by themselves once the link is
    // back; a Patroni member cut off may need a rebuild, which is the lab component's repair, not ours.
    const baseline = await breakLab(['node-down', 'h2'], ['ssh', 'disk-free', 'swarm', 'etcd'])
    try {
      const started = Date.now()
      const {run, report} = await preflight(['preflight', LAB])
      expect(Date.now() - started).toBeLessThan(120_000)
      expect(run.exitCode).toBe(1)
      expect(row(report, 'ssh', 'h2')).toMatchObject({status: 'fail'})
      expect(row(report, 'ssh', 'h2').hint).toMatch(/did not answer within 5000 ms|up and reachable/)
      expect(row(report, 'disk-free', 'h2')).toMatchObject({status: 'error'})
      expect(row(report, 'disk-free', 'h2').detail).toMatch(/^not run: h2 is unreachable over SSH/)
      for (const host of ['h1', 'h3', 'h4']) {
        expect(row(report, 'ssh', host).status).toBe('pass')
        expect(row(report, 'disk-free', host).status).toBe('pass')
        expect(row(report, 'memory', host).status).toBe('pass')
      }
      othersStillReport(report)
      const status = await expectStatusListsFirst(undefined, 'ssh', 'h2')
      expect(status.nodes.find((n) => n.name === 'h2')).toMatchObject({reachable: false})
      // Nothing failed among these, but h2's could not run: exit 2.
      const partial = await preflight(['run', LAB, 'disk-free', 'memory'])
      // h1, h3 and the backup host h4 pass both.
      expect(partial.report.summary).toMatchObject({pass: 6, error: 2, fail: 0})
      expect(partial.run.exitCode).toBe(2)
    } finally {
      await repair(baseline)
    }
  })

  it('app-unhealthy: service-health fails naming the 503 answers, the other checks still report', async () => {
    const baseline = await breakLab(['app-unhealthy', 'app'], ['service-health'])
    try {
      const {run, report} = await preflight(['preflight', LAB])
      expect(run.exitCode).toBe(1)
      const app = row(report, 'service-health', 'app')
      expect(app.status).toBe('fail')
      expect(app.detail).toMatch(/\/health answers wrong: .*HTTP 503/)
      expect(app.hint).toContain('ctl rollback lab app')
      othersStillReport(report)
      const status = await expectStatusListsFirst(undefined, 'service-health', 'app')
      expect(status.problems[0]!.hint).toContain('ctl rollback lab app')
      const text = await runCtl(['status', LAB], {env: vaultEnv(), timeoutMs: 120_000})
      expect(text.exitCode).toBe(1)
      expect(text.stdout.split('\n').slice(2, 4).join('\n')).toMatch(/^PROBLEMS\n {2}FAIL {3}service-health app: .*HTTP 503/)
    } finally {
      await repair(baseline)
    }
  })

  it('galera-node-loss: galera fails on the lost member with the recovery runbook as hint, the others still report', async () => {
    const baseline = await breakLab(['galera-node-loss', 'h3'], ['galera'])
    try {
      const {run, report} = await preflight(['preflight', LAB])
      expect(run.exitCode).toBe(1)
      expect(row(report, 'galera', 'h3')).toMatchObject({status: 'fail', detail: 'mariadbd is not running'})
      expect(row(report, 'galera', 'h3').hint).toContain('ctl runbook galera-recover lab')
      expect(row(report, 'galera', 'h1').detail).toBe('Primary, Synced, size 2/3')
      othersStillReport(report)
      const status = await expectStatusListsFirst(undefined, 'galera', 'h3')
      expect(status.clusters.find((c) => c.name === 'galera')).toMatchObject({state: 'degraded'})
    } finally {
      await repair(baseline)
    }
  })

  it('galera-crash: every member fails, the rest of the platform still reports', async () => {
    const baseline = await breakLab(['galera-crash'], ['galera'])
    try {
      const {run, report} = await preflight(['preflight', LAB])
      expect(run.exitCode).toBe(1)
      expect(rows(report, 'galera').map((r) => [r.target, r.status, r.detail])).toEqual([
        ['h1', 'fail', 'mariadbd is not running'],
        ['h2', 'fail', 'mariadbd is not running'],
        ['h3', 'fail', 'mariadbd is not running'],
      ])
      othersStillReport(report)
      const status = await expectStatusListsFirst(undefined, 'galera', 'h1')
      expect(status.clusters.find((c) => c.name === 'galera')).toMatchObject({state: 'down'})
    } finally {
      await repair(baseline)
    }
  })

  it('patroni-leader-loss: patroni fails on the lost member, the others still report', async () => {
    const baseline = await breakLab(['patroni-leader-loss'], ['patroni'])
    const leader = row(baseline, 'patroni', 'leader').detail
    try {
      const {run, report} = await preflight(['preflight', LAB])
      expect(run.exitCode).toBe(1)
      const lost = rows(report, 'patroni').filter((r) => r.status === 'fail')
      expect(lost.length).toBeGreaterThan(0)
      // Either no healthy leader yet, or a new one elected while the old member is down.
      expect(lost.map((r) => `${r.target}: ${r.detail}`).join('\n')).toMatch(
        new RegExp(`leader: (no leader|leader ${leader} is not healthy)|${leader}: REST API not answering`),
      )
      expect(lost.every((r) => Boolean(r.hint))).toBe(true)
      othersStillReport(report)
      await expectStatusListsFirst(undefined, 'patroni', /.+/)
    } finally {
      await repair(baseline)
    }
  })

  it('vault-sealed: every Vault member fails as sealed with the unseal command as hint', async () => {
    const baseline = await breakLab(['vault-sealed'], ['vault'])
    try {
      const {run, report} = await preflight(['preflight', LAB])
      expect(run.exitCode).toBe(1)
      for (const host of ['h1', 'h2', 'h3']) {
        expect(row(report, 'vault', host).detail).toMatch(/^sealed \(unseal progress 0\/\d+\)$/)
        expect(row(report, 'vault', host).hint).toBe(`ctl vault unseal lab --node ${host} with the key holders' shares.`)
      }
      othersStillReport(report)
      const status = await expectStatusListsFirst(undefined, 'vault', 'h1')
      expect(status.clusters.find((c) => c.name === 'vault')).toMatchObject({state: 'down'})
    } finally {
      await repair(baseline)
    }
  })
})
