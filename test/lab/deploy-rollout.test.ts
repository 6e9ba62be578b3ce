import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {execa} from 'execa'
import {projectRoot, runCtl} from '../support/cli.js'
import {appJson, appImage, appTasks, deployApp, ensureSwarm, settledHealth, shortImages} from './support/app.js'
import {docker} from './support/swarm.js'

// ctl deploy against the lab's real swarm, with the real app image behind HAProxy.
describe('ctl deploy lab (rollout, failed gate, rollback)', () => {
  beforeAll(async () => {
    await ensureSwarm()
    await deployApp('v1')
  })

  it('deploys a new version one task at a time, each passing the /health gate', async () => {
    const result = await deployApp('v2')
    expect(result.outcome).toBe('ok')
    expect(result.changes).toMatchObject([{swarmName: 'app_app', oldImage: 'ctl-lab/app:v1', newImage: 'ctl-lab/app:v2', action: 'update'}])
    const [service] = result.services
    expect(service).toMatchObject({swarmName: 'app_app', outcome: 'updated', finalImage: 'ctl-lab/app:v2'})
    expect(service.gates).toHaveLength(2)
    for (const gate of service.gates) expect(gate.verdict).toMatch(/^passed/)
    // Independently of ctl: two running tasks of v2, each answering its /health with its version.
    const running = (await appTasks()).filter((t) => t.desired === 'running' && t.state === 'running')
    expect(running.map((t) => t.image)).toEqual(['ctl-lab/app:v2', 'ctl-lab/app:v2'])
    expect((await settledHealth()).filter((h) => h.status === 200).map((h) => h.version)).toEqual(['v2', 'v2'])
  })

  it('stops at the first task when /health fails, rolls back, and leaves the old version healthy', async () => {
    const audit = join(mkdtempSync(join(tmpdir(), 'ctl-audit-')), 'audit.log')
    const before = new Set((await appTasks()).map((t) => t.id))
    const run = await runCtl(['deploy', 'lab', '--image', 'app=broken', '--skip-preflight', '--json'], {env: {CTL_AUDIT_LOG: audit}})
    expect(run.exitCode, run.stderr).toBe(1)
    const result = appJson(run)
    expect(result.outcome).toBe('rolled-back')
    const [service] = result.services
    expect(service).toMatchObject({swarmName: 'app_app', outcome: 'rolled-back', finalImage: 'ctl-lab/app:v2'})
    // The report names the failed task, its node, and its last /health answers (the 503 of the broken build).
    expect(service.failedTask.node).toMatch(/^h[123]$/)
    expect(service.failedTask.lastAnswers.join('\n')).toMatch(/HTTP 503 \{"status":"failing","version":"broken"/)
    // Only one slot ever got the broken image: the rollout stopped at the first task.
    const tasks = await appTasks()
    const broken = tasks.filter((t) => !before.has(t.id) && t.image === 'ctl-lab/app:broken')
    expect(broken.length).toBeGreaterThan(0)
    expect(new Set(broken.map((t) => t.slot)).size).toBe(1)
    expect(broken.every((t) => t.desired !== 'running')).toBe(true)
    // The service is back on v2 with every replica running and healthy.
    expect(await appImage()).toBe('ctl-lab/app:v2')
    const running = tasks.filter((t) => t.desired === 'running' && t.state === 'running')
    expect(running.map((t) => t.image)).toEqual(['ctl-lab/app:v2', 'ctl-lab/app:v2'])
    expect((await settledHealth()).filter((h) => h.status === 200).map((h) => h.version)).toEqual(['v2', 'v2'])
    // The audit log says what changed and how it ended.
    const entry = shortImages(JSON.parse(readFileSync(audit, 'utf8').trim().split('\n').at(-1)!))
    expect(entry).toMatchObject({
      env: 'lab',
      outcome: 'rolled-back',
      detail: {
        changes: [{swarmName: 'app_app', oldImage: 'ctl-lab/app:v2', newImage: 'ctl-lab/app:broken'}],
        services: [{service: 'app', outcome: 'rolled-back'}],
      },
    })
    expect(existsSync('/var/lib/ctl/locks/deploy-lab.lock')).toBe(false)
    // ctl left Swarm clean: no update state in flight, its update settings back at rest (no hold).
    const state = (await docker('h1', ['service', 'inspect', '--format', '{{json .UpdateStatus}} {{.Spec.UpdateConfig.Delay}}', 'app_app'])).stdout
    expect(state).toMatch(/^(null|\{"State":"completed".*\}) 4s$/)
    // A rollback now goes to the last release that ran fine with another image, never to the broken one.
    const again = await runCtl(['rollback', 'lab', 'app', '--dry-run', '--json'])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(appJson(again).target).toMatchObject({from: 'ctl-lab/app:v2', to: 'ctl-lab/app:v1'})
  })

  it('rolls back by hand to the previous good release with ctl rollback, and to any release with --to', async () => {
    await deployApp('v1')
    const dry = await runCtl(['rollback', 'lab', 'app', '--dry-run', '--json'])
    expect(appJson(dry).target).toMatchObject({swarmName: 'app_app', from: 'ctl-lab/app:v1', to: 'ctl-lab/app:v2'})
    expect(await appImage()).toBe('ctl-lab/app:v1')
    const run = await runCtl(['rollback', 'lab', 'app', '--yes', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(appJson(run).swarm).toMatchObject({outcome: 'updated', finalImage: 'ctl-lab/app:v2'})
    expect(await appImage()).toBe('ctl-lab/app:v2')
    expect((await settledHealth()).filter((h) => h.status === 200).map((h) => h.version)).toEqual(['v2', 'v2'])
    // The history lists every release, newest first; --to takes any good one by its number.
    const releases = appJson(await runCtl(['releases', 'lab', 'app', '--json'])).releases as {id: number; image: string; kind: string; outcome: string}[]
    expect(releases[0]).toMatchObject({image: 'ctl-lab/app:v2', kind: 'rollback', outcome: 'ok'})
    expect(releases.find((r) => r.image === 'ctl-lab/app:broken')?.outcome).toBe('rolled-back')
    const broken = releases.find((r) => r.image === 'ctl-lab/app:broken')!
    const refused = await runCtl(['rollback', 'lab', 'app', '--to', String(broken.id), '--yes', '--json'])
    expect(refused.exitCode).toBe(2)
    expect(appJson(refused).error).toBe('deploy.release-not-good')
    const v1 = releases.find((r) => r.image === 'ctl-lab/app:v1' && r.outcome === 'ok')!
    const to = await runCtl(['rollback', 'lab', 'app', '--to', String(v1.id), '--yes', '--json'])
    expect(to.exitCode, to.stderr).toBe(0)
    expect(appJson(to).target).toMatchObject({to: 'ctl-lab/app:v1', release: v1.id})
    expect((await settledHealth()).filter((h) => h.status === 200).map((h) => h.version)).toEqual(['v1', 'v1'])
  })

  it('a declined rollback exits 2 and changes nothing', async () => {
    // A terminal that answers "n": `script` gives ctl a tty.
    const declined = await execa('script', ['-qec', `${join(projectRoot, 'bin', 'run.js')} rollback lab app`, '/dev/null'], {
      cwd: projectRoot,
      reject: false,
      input: 'n\n',
      env: {CTL_NONINTERACTIVE: '0'},
      timeout: 120_000,
    })
    expect(declined.exitCode, String(declined.stdout)).toBe(2)
    expect(String(declined.stdout)).toMatch(/not confirmed/)
    expect(await appImage()).toBe('ctl-lab/app:v1')
  })
})
