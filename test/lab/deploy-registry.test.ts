import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {json, projectRoot, runCtl, type CliRun} from '../support/cli.js'
import {appTasks, deployApp, ensureSwarm, settledHealth} from './support/app.js'
import {localImageDigests, moveTag, registryDigest, registryImage, registryPassword, removeLocalRegistryImages} from './support/registry.js'
import {docker, labInventoryCopy} from './support/swarm.js'

// The lab deploys from its private registry (TLS with the lab CA, basic auth), as production would:
// tags are resolved to digests on the manager before the lock, the stack runs pinned to them, the
// workers pull with the manager's credentials, and the history keeps the exact bits.
const LOCK = '/var/lib/ctl/locks/deploy-lab.lock'
const RELEASES = '/var/lib/ctl/locks/releases-lab.jsonl'

function auditLog(): string {
  return join(mkdtempSync(join(tmpdir(), 'ctl-audit-')), 'audit.log')
}

/** Every place a secret could leak to: what the operator saw, and the audit log. */
function everywhere(run: CliRun, audit: string): string {
  return `${run.stdout}\n${run.stderr}\n${existsSync(audit) ? readFileSync(audit, 'utf8') : ''}`
}

async function serviceImage(): Promise<string> {
  return (await docker('h1', ['service', 'inspect', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}', 'app_app'])).stdout
}

/** The deploy's login directory on the manager (the lab's hosts share this machine's filesystem). */
const LOGIN_DIR = '/var/lib/ctl/registry-login/lab'

describe('deploy from the lab registry', () => {
  beforeAll(async () => {
    await ensureSwarm()
    await deployApp('v1')
  })

  it('resolves the tag to its digest, runs the stack pinned to it, and the workers pull it with the forwarded login', async () => {
    const digest = await registryDigest('v3')
    // Only the registry has v3 now: a worker that runs it must have pulled it.
    for (const host of ['h2', 'h3'] as const) await removeLocalRegistryImages(host)
    const audit = auditLog()
    const dry = await runCtl(['deploy', 'lab', '--image', 'app=v3', '--skip-preflight', '--dry-run', '--json'])
    expect(json(dry).changes).toEqual([expect.objectContaining({swarmName: 'app_app', newImage: `${registryImage('v3')}@${digest}`, action: 'update'})])

    const run = await runCtl(['deploy', 'lab', '--image', 'app=v3', '--skip-preflight', '--json', '-m', 'registry'], {env: {CTL_AUDIT_LOG: audit}})
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0)
    expect(json(run).services[0]).toMatchObject({outcome: 'updated', finalImage: `${registryImage('v3')}@${digest}`})
    expect(await serviceImage()).toBe(`${registryImage('v3')}@${digest}`)
    const running = (await appTasks()).filter((t) => t.desired === 'running')
    expect(running).toHaveLength(2)
    expect((await settledHealth()).map((h) => `${h.status} ${h.version}`)).toEqual(['200 v3', '200 v3'])
    // Two replicas on three hosts: at least one worker runs one, from bits it pulled by digest.
    const workersWithIt = []
    for (const host of ['h2', 'h3'] as const) if ((await localImageDigests(host)).some((d) => d.endsWith(`@${digest}`))) workersWithIt.push(host)
    expect(workersWithIt.length).toBeGreaterThan(0)
    // The login lived for the job only; the password was never shown or logged.
    expect(existsSync(LOGIN_DIR)).toBe(false)
    expect(everywhere(run, audit)).not.toContain(registryPassword())
    const history = readFileSync(RELEASES, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(history.at(-1)).toMatchObject({image: `${registryImage('v3')}@${digest}`, outcome: 'ok', message: 'registry'})
  })

  it('a tag that does not exist fails before the lock and changes nothing', async () => {
    const before = await serviceImage()
    const history = readFileSync(RELEASES, 'utf8')
    const run = await runCtl(['deploy', 'lab', '--image', 'app=v3-typo', '--skip-preflight', '--json'])
    expect(run.exitCode).toBe(2)
    expect(json(run)).toMatchObject({error: 'deploy.image-not-found', message: expect.stringContaining(`image ${registryImage('v3-typo')} does not exist`)})
    expect(existsSync(LOCK)).toBe(false)
    expect(await serviceImage()).toBe(before)
    expect(readFileSync(RELEASES, 'utf8')).toBe(history)
  })

  it('a wrong registry password fails before anything changes, and appears nowhere', async () => {
    const wrong = 'Wr0ng-registry-Passw0rd'
    const file = labInventoryCopy((inv) => {
      inv.stacks[0].files = [join(projectRoot, 'inventories', 'lab', 'stacks', 'app.yml')]
      inv.registries[0].password = 'env:CTL_TEST_REGISTRY_PASSWORD'
    })
    const before = await serviceImage()
    const audit = auditLog()
    const run = await runCtl(['deploy', file, '--image', 'app=v2', '--skip-preflight', '--json'], {
      env: {CTL_TEST_REGISTRY_PASSWORD: wrong, CTL_AUDIT_LOG: audit},
    })
    expect(run.exitCode).toBe(2)
    expect(json(run)).toMatchObject({error: 'registry.unauthorized', message: expect.stringContaining('refused the credentials')})
    expect(existsSync(LOCK)).toBe(false)
    expect(await serviceImage()).toBe(before)
    expect(everywhere(run, audit)).not.toContain(wrong)
    // The check says the same of every node, without the password either.
    const check = await runCtl(['check', 'run', file, 'registry-pull', '--json'], {env: {CTL_TEST_REGISTRY_PASSWORD: wrong}})
    expect(check.exitCode).toBe(1)
    expect(json(check).results.map((r: any) => `${r.target} ${r.status}`)).toEqual(['h1 fail', 'h2 fail', 'h3 fail'])
    expect(check.stdout + check.stderr).not.toContain(wrong)
    const good = await runCtl(['check', 'run', 'lab', 'registry-pull', '--json'])
    expect(good.exitCode, good.stdout).toBe(0)
  })

  it('a tag moved to other bits after a deploy does not change what a rollback restores', async () => {
    await moveTag('v1', 'moving')
    const v1Bits = await registryDigest('moving')
    expect(v1Bits).toBe(await registryDigest('v1'))
    expect((await runCtl(['deploy', 'lab', '--image', 'app=moving', '--skip-preflight', '--json'])).exitCode).toBe(0)
    await moveTag('v2', 'moving')
    expect(await registryDigest('moving')).not.toBe(v1Bits)
    expect((await runCtl(['deploy', 'lab', '--image', 'app=v3', '--skip-preflight', '--json'])).exitCode).toBe(0)

    const dry = await runCtl(['rollback', 'lab', 'app', '--to', 'moving', '--dry-run', '--json'])
    expect(json(dry).target.to).toBe(`${registryImage('moving')}@${v1Bits}`)
    const back = await runCtl(['rollback', 'lab', 'app', '--to', 'moving', '--yes', '--json'])
    expect(back.exitCode, `${back.stdout}\n${back.stderr}`).toBe(0)
    expect(await serviceImage()).toBe(`${registryImage('moving')}@${v1Bits}`)
    expect((await settledHealth()).map((h) => `${h.status} ${h.version}`)).toEqual(['200 v1', '200 v1'])

    // A deploy of the tag now is a change: the tag names other bits than what runs.
    const again = await runCtl(['deploy', 'lab', '--image', 'app=moving', '--skip-preflight', '--dry-run', '--json'])
    expect(json(again).changes).toEqual([expect.objectContaining({action: 'update', newImage: `${registryImage('moving')}@${await registryDigest('v2')}`})])
  })
})
