import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {galeraPaths} from '../../packages/lab/src/components/galera-files.js'
import {labControl} from '../../packages/lab/src/components/galera.js'
import {projectRoot, runCtl, json} from '../support/cli.js'
import {
  breakLab,
  clusterUuid,
  control,
  ensureHealthy,
  expectHealthy,
  grastate,
  host,
  inventoryVariant,
  members,
  prepareTable,
  recover,
  rowsDigest,
  sql,
  status,
  waitFor,
  writeRows,
} from './support/galera.js'

// The lab's real Galera cluster (3 mariadbd in the host namespaces), broken in each way issue 7
// names and recovered by `ctl runbook galera-recover lab`. Every test leaves the cluster healthy.

const stepStatus = (result: any) => Object.fromEntries(result.steps.map((s: any) => [s.id, s.status]))

describe('galera-recover in the lab', () => {
  beforeAll(async () => {
    await ensureHealthy()
    await prepareTable()
  })
  beforeEach(async () => {
    await ensureHealthy()
  })
  afterAll(async () => {
    await ensureHealthy()
  })

  it('after galera-crash (kill -9 of every mariadbd) bootstraps with the recovered positions, keeps the uuid and every row', async () => {
    const uuid = await clusterUuid()
    await writeRows('h2', 'before-crash', 50)
    const digest = await rowsDigest('h1')
    const started = Date.now()
    await breakLab('galera-crash')
    for (const m of members) expect((await control(m, 'status')).code, `${m} still runs`).not.toBe(0)
    const {run, result} = await recover(['--yes'])
    const rto = (Date.now() - started) / 1000
    expect(run.exitCode, `${run.stderr}\n${JSON.stringify(result.error)}`).toBe(0)
    process.stderr.write(`[galera] galera-crash → verified cluster: ${rto.toFixed(1)} s (runbook ${(result.durationMs / 1000).toFixed(1)} s)\n`)
    expect(result.outcome).toBe('ok')
    expect(result.summary.decision).toMatchObject({action: 'bootstrap', clusterUuid: uuid})
    // seqno -1 everywhere after the kill: every position came from --wsrep-recover.
    expect(result.summary.facts.map((f: any) => f.grastate?.seqno ?? -1)).toEqual([-1, -1, -1])
    expect(result.summary.facts.every((f: any) => f.recovered?.uuid === uuid)).toBe(true)
    expect(stepStatus(result)).toMatchObject({'recover-positions': 'done', 'stop-stuck': 'skipped', bootstrap: 'done', rejoin: 'done', verify: 'done'})
    expect(result.summary.verification).toMatchObject({primary: true, size: 3, allSynced: true, uuidUnchanged: true, probe: {found: true}})
    await expectHealthy(uuid, digest)
  })

  it('after a staggered crash the most advanced member (not the first) is bootstrapped and the stuck non-Primary one is stopped', async () => {
    const uuid = await clusterUuid()
    await breakLab('galera-node-loss', 'h1')
    await writeRows('h2', 'after-h1-died', 40)
    const digest = await rowsDigest('h2')
    // h2 dies too: h3 is left alone, running in non-Primary, ignoring SIGTERM.
    expect((await control('h2', 'kill')).code).toBe(0)
    await waitFor('h3 non-Primary', async () => ((await status('h3'))?.clusterStatus === 'non-Primary' ? true : undefined))
    const {run, result} = await recover(['--yes'])
    expect(run.exitCode, `${run.stderr}\n${JSON.stringify(result.error)}`).toBe(0)
    const decided = result.steps.find((s: any) => s.id === 'decide').report.join('\n')
    expect(decided).toContain('stop first (running outside a Primary component): h3')
    expect(decided).toContain('bootstrap: h2')
    // Decided again once h3 was stopped and its position recovered: still h2.
    expect(result.summary.decision).toMatchObject({action: 'bootstrap', bootstrapNode: 'h2', stop: []})
    expect(result.summary.stopped).toEqual(['h3'])
    expect(stepStatus(result)['stop-stuck']).toBe('done')
    // h1 is behind: its recovered seqno is lower than h2's.
    const seqno = (n: string) => result.summary.decision.startPositions[n].seqno
    expect(seqno('h1')).toBeLessThan(seqno('h2'))
    await expectHealthy(uuid, digest)
    expect(await rowsDigest('h1')).toBe(digest)
  })

  it('after a staggered crash where every member died, bootstraps the most advanced, not the first', async () => {
    const uuid = await clusterUuid()
    await breakLab('galera-node-loss', 'h1')
    await writeRows('h3', 'h1-gone', 30)
    const digest = await rowsDigest('h3')
    await Promise.all([control('h2', 'kill'), control('h3', 'kill')])
    const {run, result} = await recover(['--yes'])
    expect(run.exitCode, `${run.stderr}\n${JSON.stringify(result.error)}`).toBe(0)
    // h2 and h3 tie at the highest seqno: inventory order picks h2.
    expect(result.summary.decision).toMatchObject({action: 'bootstrap', bootstrapNode: 'h2', start: ['h1', 'h3']})
    await expectHealthy(uuid, digest)
  })

  it('after a graceful full shutdown bootstraps the last member to leave (safe_to_bootstrap: 1) without --wsrep-recover', async () => {
    const uuid = await clusterUuid()
    expect((await control('h1', 'stop')).code).toBe(0)
    await writeRows('h2', 'h1-stopped', 20)
    expect((await control('h2', 'stop')).code).toBe(0)
    await writeRows('h3', 'h3-last', 20)
    const digest = await rowsDigest('h3')
    expect((await control('h3', 'stop')).code).toBe(0)
    expect(grastate('h3')).toMatch(/safe_to_bootstrap: 1/)
    const {run, result} = await recover(['--yes'])
    expect(run.exitCode, `${run.stderr}\n${JSON.stringify(result.error)}`).toBe(0)
    expect(result.summary.decision).toMatchObject({action: 'bootstrap', bootstrapNode: 'h3', start: ['h1', 'h2']})
    expect(stepStatus(result)['recover-positions']).toBe('skipped')
    await expectHealthy(uuid, digest)
  })

  it('with one member lost while two stay Primary, does not bootstrap: the lost one rejoins', async () => {
    const uuid = await clusterUuid()
    await breakLab('galera-node-loss', 'h3')
    await waitFor('size 2', async () => ((await status('h1'))?.clusterSize === 2 ? true : undefined))
    await writeRows('h1', 'h3-lost', 25)
    const digest = await rowsDigest('h1')
    const bootstrapPid = readFileSync(galeraPaths(host('h1')).pidFile, 'utf8')
    const {run, result} = await recover(['--yes'])
    expect(run.exitCode, `${run.stderr}\n${JSON.stringify(result.error)}`).toBe(0)
    expect(result.summary.decision).toMatchObject({action: 'rejoin', primary: ['h1', 'h2'], start: ['h3']})
    expect(stepStatus(result)).toMatchObject({bootstrap: 'skipped', rejoin: 'done'})
    // h1 was never restarted.
    expect(readFileSync(galeraPaths(host('h1')).pidFile, 'utf8')).toBe(bootstrapPid)
    await expectHealthy(uuid, digest)
  })

  it('refuses when a member cannot be reached, and when members disagree on the cluster uuid', async () => {
    await breakLab('galera-crash')
    // h3 unreachable: its sshd port answers nothing.
    const unreachable = inventoryVariant('lab-unreachable', (inv) => {
      inv.nodes[2].ssh = {port: 1}
    })
    const refused = await runCtl(['runbook', 'galera-recover', unreachable, '--yes', '--json'], {timeoutMs: 120_000})
    expect(refused.exitCode).toBe(2)
    const r1 = json(refused)
    expect(r1.outcome).toBe('refused')
    expect(r1.error.code).toBe('galera.unreachable')
    expect(r1.error.message).toContain('h3')
    for (const m of members) expect((await control(m, 'status')).code, `${m} was started`).not.toBe(0)

    // h3's grastate names another cluster.
    const file = join(galeraPaths(host('h3')).datadir, 'grastate.dat')
    const original = readFileSync(file, 'utf8')
    writeFileSync(file, original.replace(/^uuid:\s*\S+/m, 'uuid:    7a7a7a7a-1a2b-11ef-9a6e-8f1c2d3e4f50'))
    try {
      const {run, result} = await recover(['--yes'])
      expect(run.exitCode).toBe(2)
      expect(result.outcome).toBe('refused')
      expect(result.error.code).toBe('galera.uuid-mismatch')
      expect(result.error.message).toContain('7a7a7a7a-1a2b-11ef-9a6e-8f1c2d3e4f50 (h3)')
      for (const m of members) expect((await control(m, 'status')).code, `${m} was started`).not.toBe(0)
    } finally {
      writeFileSync(file, original)
    }

    // No terminal and no --yes: the read steps run, then it stops before the first data-risk step.
    const {run, result} = await recover([])
    expect(run.exitCode).toBe(2)
    expect(result.outcome).toBe('stopped')
    expect(result.error.step).toBe('bootstrap')
    expect(stepStatus(result)).toMatchObject({'gather-facts': 'done', 'recover-positions': 'done', decide: 'done', bootstrap: 'stopped', rejoin: 'pending'})
    for (const m of members) expect((await control(m, 'status')).code, `${m} was started`).not.toBe(0)
  })

  it('never rejoins a member ahead of the Primary component: refuses with both positions, with or without --yes, its data intact', async () => {
    const uuid = await clusterUuid()
    await writeRows('h1', 'before-split', 5)
    // h2 and h3 leave cleanly: h1 stays Primary alone and commits rows only it will have.
    for (const m of ['h2', 'h3'] as const) expect((await control(m, 'stop')).code, `${m} stop`).toBe(0)
    await waitFor('h1 Primary alone', async () => {
      const s = await status('h1')
      return s?.clusterStatus === 'Primary' && s.clusterSize === 1 ? true : undefined
    })
    await writeRows('h1', 'only-on-h1', 7)
    const aheadSeqno = (await status('h1'))!.lastCommitted
    expect((await control('h1', 'kill')).code).toBe(0)
    const h1Datadir = galeraPaths(host('h1')).datadir
    const aside = `${h1Datadir}.ahead-test-${Date.now()}`
    const discardH1 = () => {
      if (existsSync(aside)) return
      renameSync(h1Datadir, aside)
      mkdirSync(h1Datadir, {mode: 0o700})
    }
    try {
      // h2 and h3 form a Primary again at their older position, same uuid (bootstrapped by hand).
      const h2State = join(galeraPaths(host('h2')).datadir, 'grastate.dat')
      writeFileSync(h2State, readFileSync(h2State, 'utf8').replace(/^safe_to_bootstrap:\s*0/m, 'safe_to_bootstrap: 1'))
      expect((await labControl(host('h2'), 'start', ['--wsrep-new-cluster'])).code).toBe(0)
      await waitFor('h2 Primary', async () => ((await status('h2'))?.localState === 'Synced' ? true : undefined), 120_000)
      expect((await control('h3', 'start')).code).toBe(0)
      await waitFor(
        'h3 Synced, size 2',
        async () => {
          const s = await status('h3')
          return s?.localState === 'Synced' && s.clusterSize === 2 ? true : undefined
        },
        120_000,
      )
      const primary = (await status('h2'))!
      expect(primary.clusterUuid).toBe(uuid)
      expect(aheadSeqno).toBeGreaterThan(primary.lastCommitted)
      const digest = await rowsDigest('h2')
      const h1Grastate = grastate('h1')

      // No terminal, no --yes; then with --yes: the same refusal, nothing started, nothing written.
      for (const args of [[], ['--yes']]) {
        const {run, result} = await recover(args)
        expect(run.exitCode, `${args.join(' ')}: ${run.stderr}`).toBe(2)
        expect(result.outcome).toBe('refused')
        expect(result.error.code).toBe('galera.member-ahead')
        expect(result.error.step).toBe('decide')
        expect(result.error.message).toContain(`h1 at ${uuid}:${aheadSeqno}, the Primary at ${uuid}:${primary.lastCommitted}`)
        expect(result.error.message).toContain(`discard the ${aheadSeqno - primary.lastCommitted} transaction(s) only h1 has`)
        expect(result.error.hint).toContain("discard them: move h1's datadir aside")
        expect(stepStatus(result)).toMatchObject({'recover-positions': 'done', decide: 'failed', rejoin: 'pending', verify: 'pending'})
        expect((await control('h1', 'status')).code, 'h1 was started').not.toBe(0)
        expect(grastate('h1')).toBe(h1Grastate)
        // No probe row (or anything else) was written on the Primary.
        expect((await status('h2'))!.lastCommitted).toBe(primary.lastCommitted)
      }
      // h1 still holds its own rows: read them with mariadbd alone (no wsrep), then stop it.
      expect((await labControl(host('h1'), 'start', ['--wsrep-provider=none'])).code).toBe(0)
      const onlyOnH1 = await waitFor(
        'h1 standalone',
        () => sql('h1', "SELECT COUNT(*) FROM ctl_test.rows WHERE v LIKE 'only-on-h1-%'").catch(() => undefined),
        60_000,
      )
      expect(onlyOnH1).toBe('7')
      expect((await control('h1', 'stop')).code).toBe(0)

      // The operator chooses to discard them (the hint's second way): h1 joins by full state transfer.
      discardH1()
      const {run, result} = await recover(['--yes'])
      expect(run.exitCode, `${run.stderr}\n${JSON.stringify(result.error)}`).toBe(0)
      expect(result.summary.decision).toMatchObject({action: 'rejoin', primary: ['h2', 'h3'], start: ['h1']})
      await expectHealthy(uuid, digest)
    } finally {
      // Whatever failed above, leave a cluster the next test can repair: h1's diverged data goes.
      if (!existsSync(aside)) {
        await control('h1', 'stop')
        discardH1()
      }
      rmSync(aside, {recursive: true, force: true})
    }
  })

  it('a run killed right after the bootstrap step continues with --resume and finishes', async () => {
    const uuid = await clusterUuid()
    await writeRows('h1', 'before-interrupt', 10)
    const digest = await rowsDigest('h1')
    await breakLab('galera-crash')
    const stateDir = mkdtempSync(join(tmpdir(), 'ctl-galera-resume-'))
    const env = {...process.env, CTL_NONINTERACTIVE: '1', CTL_STATE_DIR: stateDir}
    const child = spawn(join(projectRoot, 'bin', 'run.js'), ['runbook', 'galera-recover', 'lab', '--yes'], {
      cwd: projectRoot,
      env,
      detached: true,
      stdio: 'ignore',
    })
    const journal = () => readdirSync(join(stateDir, 'runs')).map((f) => join(stateDir, 'runs', f))[0]
    await waitFor(
      'the bootstrap step to finish',
      async () => {
        const file = existsSync(join(stateDir, 'runs')) ? journal() : undefined
        return file && readFileSync(file, 'utf8').includes('"step":"bootstrap","status":"done"') ? true : undefined
      },
      120_000,
    )
    process.kill(-child.pid!, 'SIGKILL')
    await sleep(500)
    const text = readFileSync(journal()!, 'utf8')
    expect(text).not.toContain('"type":"end"')

    const {run, result} = await recover(['--yes', '--resume'], {CTL_STATE_DIR: stateDir})
    expect(run.exitCode, `${run.stderr}\n${JSON.stringify(result.error)}`).toBe(0)
    expect(result.resumed).toBe(true)
    expect(result.journal).toBe(journal())
    expect(stepStatus(result)).toMatchObject({'gather-facts': 'done', decide: 'done', bootstrap: 'done', verify: 'done'})
    expect(stepStatus(result).rejoin).toBe('done')
    // The resumed run re-read the facts and saw the bootstrapped member Primary.
    expect(result.summary.decision.action).toBe('rejoin')
    await expectHealthy(uuid, digest)
  })
})
