import {execa} from 'execa'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {docker} from '../../../../test/lab/support/swarm.js'
import {
  REGISTRY,
  REGISTRY_CA_FILE,
  REGISTRY_PASSWORD_FILE,
  REGISTRY_USERNAME,
  localImageDigests,
  moveTag,
  registryDigest,
  registryEndpoint,
  registryImage,
  registryPassword,
  removeLocalRegistryImages,
} from '../../../../test/lab/support/registry.js'
import {APP_TAGS} from '../../src/components/app-image.js'
import {registryRequest} from '../../src/components/registry-api.js'
import {registryPaths} from '../../src/components/registry-files.js'
import {labInstance} from '../../src/instance.js'
import {breakLab, statusLab, upLab} from '../../src/runner.js'

// The shared lab's registry. The lab is driven through the runner of this checkout (what `ctl lab
// up|break|status` call): every step here leaves the registry as `lab up` makes it.
const instance = labInstance('0')
const up = () => upLab(instance, {hosts: 3, docker: true, only: ['app', 'registry']})

async function registryRow() {
  return (await statusLab(instance)).rows.find((r) => r.component === 'registry')
}

/** Manifests pushed so far (the registry's access log has one PUT per pushed tag). */
function manifestPuts(): number {
  return readFileSync(registryPaths(instance).log, 'utf8')
    .split('\n')
    .filter((line) => /"PUT \/v2\/ctl-lab\/app\/manifests\//.test(line)).length
}

describe('the lab registry', () => {
  beforeAll(async () => {
    const result = await up()
    expect(result.components).toEqual([
      {component: 'app', ok: true},
      {component: 'registry', ok: true},
    ])
  })

  it('answers 401 without credentials and 200 with them, over TLS verified by the lab CA', async () => {
    // The CA ctl and the tests use is the one every lab engine trusts; the password file is private.
    expect(readFileSync(REGISTRY_CA_FILE, 'utf8')).toBe(readFileSync(`/etc/docker/certs.d/${REGISTRY}/ca.crt`, 'utf8'))
    expect(statSync(REGISTRY_PASSWORD_FILE).mode & 0o777).toBe(0o600)
    expect((await registryRequest(registryEndpoint({anonymous: true}), 'GET', '/v2/')).status).toBe(401)
    expect((await registryRequest(registryEndpoint(), 'GET', '/v2/')).status).toBe(200)
    const wrong = {...registryEndpoint(), auth: {user: REGISTRY_USERNAME, password: `${registryPassword()}x`}}
    expect((await registryRequest(wrong, 'GET', '/v2/')).status).toBe(401)
    // Another CA: the registry's certificate is not accepted (TLS is verified, not just encrypted).
    const otherCa = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8')
    await expect(registryRequest({address: REGISTRY, ca: otherCa}, 'GET', '/v2/')).rejects.toThrow(/certificate/i)
    const tags = JSON.parse((await registryRequest(registryEndpoint(), 'GET', '/v2/ctl-lab/app/tags/list')).body) as {tags: string[]}
    // Every app tag (tests may add others, e.g. the deploy tests' `moving`).
    expect(tags.tags).toEqual(expect.arrayContaining(Object.keys(APP_TAGS)))
  })

  it("lets h2's engine pull after docker login with its own client config, not before", async () => {
    await removeLocalRegistryImages('h2')
    // What a container of a deployed stack still uses stays (empty in a lab that deployed nothing from the registry).
    const before = await localImageDigests('h2')
    const config = mkdtempSync(join(tmpdir(), 'ctl-registry-test-'))
    const h2 = (args: string[], input?: string) =>
      execa('docker', ['-H', 'unix:///run/ctl-lab/h2/docker.sock', ...args], {env: {DOCKER_CONFIG: config}, input, reject: false, timeout: 120_000})
    try {
      const anonymous = await h2(['pull', '--quiet', registryImage('v2')])
      expect(anonymous.exitCode).not.toBe(0)
      expect(anonymous.stderr).toMatch(/no basic auth credentials|unauthorized/i)
      const login = await h2(['login', '--username', REGISTRY_USERNAME, '--password-stdin', REGISTRY], registryPassword())
      expect(login.exitCode, login.stderr).toBe(0)
      const pull = await h2(['pull', '--quiet', registryImage('v2')])
      expect(pull.exitCode, pull.stderr).toBe(0)
      expect(await localImageDigests('h2')).toContain(`${REGISTRY}/ctl-lab/app@${await registryDigest('v2')}`)
      const env = await docker('h2', ['image', 'inspect', '--format', '{{json .Config.Env}}', registryImage('v2')])
      expect(env.stdout).toContain('APP_VERSION=v2')
    } finally {
      await removeLocalRegistryImages('h2')
      rmSync(config, {recursive: true, force: true})
    }
    expect(await localImageDigests('h2')).toEqual(before)
  })

  it('break registry-down stops it; lab up starts it again', async () => {
    const broken = await breakLab(instance, 'registry-down')
    expect(broken.message).toMatch(/stopped/)
    expect((await registryRow())?.ok).toBe(false)
    await expect(registryRequest(registryEndpoint(), 'GET', '/v2/')).rejects.toThrow(/ECONNREFUSED/)
    const result = await up()
    expect(result.components.every((c) => c.ok)).toBe(true)
    expect(await registryRow()).toMatchObject({ok: true, detail: expect.stringContaining('401 without credentials')})
    expect((await registryRequest(registryEndpoint(), 'GET', '/v2/')).status).toBe(200)
  })

  it('lab up puts back a moved or deleted tag, pushes nothing when all is in place, and loads no worker', async () => {
    const v1 = await registryDigest('v1')
    const v3 = await registryDigest('v3')
    const broken = await registryDigest('broken')
    expect(new Set([v1, v3, broken]).size).toBe(3)
    expect(await moveTag('v1', 'v3')).toBe(v1)
    // Deleting a manifest deletes the tags on it: only `broken` is on that one.
    expect((await registryRequest(registryEndpoint(), 'DELETE', `/v2/ctl-lab/app/manifests/${broken}`)).status).toBe(202)
    expect(await registryDigest('broken')).toBeUndefined()
    for (const host of ['h2', 'h3']) await removeLocalRegistryImages(host)
    const workers = async () => Promise.all(['h2', 'h3'].map((host) => localImageDigests(host)))
    const workersBefore = await workers()

    await up()
    expect(await registryDigest('v3')).toBe(v3)
    expect(await registryDigest('broken')).toBe(broken)
    expect(await registryDigest('v1')).toBe(v1)

    const puts = manifestPuts()
    const started = Date.now()
    const again = await up()
    const seconds = (Date.now() - started) / 1000
    process.stderr.write(`[registry test] second lab up (app + registry) in ${seconds.toFixed(1)} s\n`)
    expect(again.components.every((c) => c.ok)).toBe(true)
    expect(manifestPuts()).toBe(puts)
    expect(seconds).toBeLessThan(20)
    // Only h1 pushes: up gives the workers no registry image (a deploy makes them pull).
    expect(await workers()).toEqual(workersBefore)
  })
})
