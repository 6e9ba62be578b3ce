import {execa} from 'execa'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {projectRoot, runCtl} from '../support/cli.js'
import {loadInventory} from '../../src/inventory/load.js'
import {SshPool} from '../../src/ssh/pool.js'
import {acquireLock} from '../../src/deploy/lock-run.js'
import {appJson, appImage, ensureSwarm, shortImage} from './support/app.js'

// The deploy lock lives on the first manager (h1). Lab hosts share this machine's file system, so
// the test can look at the lock directory directly.
const LOCK = '/var/lib/ctl/locks/deploy-lab.lock'

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('the deploy lock', () => {
  beforeAll(async () => {
    await ensureSwarm()
  })
  afterAll(() => rmSync(LOCK, {recursive: true, force: true}))

  it('refuses a second deploy while one runs, naming the holder and since when', async () => {
    // A tag other than the running one, so the first deploy really rolls (and holds the lock a while).
    const tag = (await appImage()) === 'ctl-lab/app:v3' ? 'v2' : 'v3'
    const first = execa(join(projectRoot, 'bin', 'run.js'), ['deploy', 'lab', '--image', `app=${tag}`, '--skip-preflight', '--json', '-m', 'release 2'], {
      cwd: projectRoot,
      reject: false,
      env: {CTL_NONINTERACTIVE: '1', CTL_OPERATOR: 'alice'},
    })
    await waitFor(() => existsSync(join(LOCK, 'info.json')) && readFileSync(join(LOCK, 'info.json'), 'utf8').includes('alice'), 60_000)
    const second = await runCtl(['deploy', 'lab', '--image', 'app=v1', '--skip-preflight', '--json'], {env: {CTL_OPERATOR: 'bob'}})
    expect(second.exitCode).toBe(2)
    const error = appJson(second)
    expect(error.error).toBe('deploy.locked')
    expect(error.message).toMatch(
      /the deploy lock is held by alice@\S+ since \d{4}-\d\d-\d\dT[\d:.]+Z \(0 min ago, last heartbeat \d+ s ago\), deploying app=ctl-lab\/app:v\d: release 2/,
    )
    expect(error.host).toBe('h1')
    const done = await first
    expect(done.exitCode, String(done.stderr)).toBe(0)
    expect(shortImage(JSON.parse(String(done.stdout)).services[0].finalImage)).toBe(`ctl-lab/app:${tag}`)
    // The first deploy released its lock; the second changed nothing.
    expect(existsSync(LOCK)).toBe(false)
    expect(await appImage()).toBe(`ctl-lab/app:${tag}`)
  })

  it('breaks a stale lock only with --force-unlock and a confirmation', async () => {
    // Deploy what runs already: the lock is the subject here, not a rollout.
    const same = `app=${(await appImage()).split(':').pop()}`
    mkdirSync(LOCK, {recursive: true})
    const since = new Date(Date.now() - 3 * 3600_000).toISOString()
    writeFileSync(join(LOCK, 'info.json'), JSON.stringify({id: 'old', holder: 'carol', from: 'laptop', since, env: 'lab', version: 'app=v9', message: ''}))
    // Its holder showed no life since (no heartbeat): the directory is as old as the lock.
    utimesSync(LOCK, new Date(since), new Date(since))
    const refused = await runCtl(['deploy', 'lab', '--image', same, '--skip-preflight', '--json'])
    expect(refused.exitCode).toBe(2)
    expect(appJson(refused).message).toMatch(/held by carol@laptop since .*\(180 min ago, last heartbeat 180 min ago\), deploying app=v9$/)
    expect(appJson(refused).hint).toMatch(/stale.*--force-unlock/)
    // No terminal and no --yes: the confirmation cannot be given, the lock stays.
    const unconfirmed = await runCtl(['deploy', 'lab', '--image', same, '--skip-preflight', '--force-unlock', '--json'])
    expect(unconfirmed.exitCode).toBe(2)
    expect(appJson(unconfirmed).error).toBe('prompt.no-terminal')
    expect(readFileSync(join(LOCK, 'info.json'), 'utf8')).toContain('carol')
    const broken = await runCtl(['deploy', 'lab', '--image', same, '--skip-preflight', '--force-unlock', '--yes', '--json'])
    expect(broken.exitCode, broken.stderr).toBe(0)
    expect(appJson(broken).outcome).toBe('no-changes')
    expect(appJson(broken).lock.brokeLockOf).toBe(`carol since ${since}`)
    expect(existsSync(LOCK)).toBe(false)
  })

  it('--force-unlock breaks only the stale lock it showed: a lock taken meanwhile by someone else survives', async () => {
    const since = new Date(Date.now() - 3 * 3600_000)
    mkdirSync(LOCK, {recursive: true})
    writeFileSync(
      join(LOCK, 'info.json'),
      JSON.stringify({id: 'old', holder: 'carol', from: 'laptop', since: since.toISOString(), env: 'lab', what: 'deploying app=v9'}),
    )
    utimesSync(LOCK, since, since)
    const loaded = loadInventory(join(projectRoot, 'inventories', 'lab.yml'))
    const pool = new SshPool(loaded)
    const asked: string[] = []
    try {
      const attempt = acquireLock(pool, loaded, {
        version: 'app=v1',
        message: '',
        forceUnlock: true,
        yes: true,
        confirm: async (question) => {
          asked.push(question)
          // While this operator reads the question, another one breaks the stale lock and takes it.
          rmSync(LOCK, {recursive: true, force: true})
          mkdirSync(LOCK)
          writeFileSync(
            join(LOCK, 'info.json'),
            JSON.stringify({id: 'fresh', holder: 'erin', from: 'desk', since: new Date().toISOString(), env: 'lab', what: 'deploying app=v4'}),
          )
        },
      })
      await expect(attempt).rejects.toMatchObject({
        code: 'deploy.locked',
        exitCode: 2,
        host: 'h1',
        message: expect.stringMatching(/changed after it was shown and was left alone; it is now held by erin@desk .*deploying app=v4/),
      })
      expect(asked).toEqual([expect.stringMatching(/^Break the stale deploy lock of lab held by carol@laptop since .*\(180 min ago/)])
      expect(readFileSync(join(LOCK, 'info.json'), 'utf8')).toContain('"id":"fresh"')
      expect(readdirSync(LOCK)).toEqual(['info.json'])
    } finally {
      pool.dispose()
      rmSync(LOCK, {recursive: true, force: true})
    }
  })

  it('refuses to break a fresh lock even with --force-unlock', async () => {
    mkdirSync(LOCK, {recursive: true})
    writeFileSync(join(LOCK, 'info.json'), JSON.stringify({id: 'x', holder: 'dave', since: new Date().toISOString()}))
    const run = await runCtl([
      'deploy',
      'lab',
      '--image',
      `app=${(await appImage()).split(':').pop()}`,
      '--skip-preflight',
      '--force-unlock',
      '--yes',
      '--json',
    ])
    expect(run.exitCode).toBe(2)
    expect(appJson(run).error).toBe('deploy.lock-fresh')
    expect(existsSync(LOCK)).toBe(true)
    rmSync(LOCK, {recursive: true, force: true})
  })
})
