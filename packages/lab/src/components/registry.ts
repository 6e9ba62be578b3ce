import {chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {CtlError} from 'ctl/lib/errors.js'
import {runLocal} from 'ctl/lib/local.js'
import {isAlive, runningDaemon, startDetached, stopProcess, waitFor} from '../daemon.js'
import {ensureLabPassword, writeIfChanged} from '../lab-files.js'
import {DEFAULT_LAB_INSTANCE, type LabBreakScenario, type LabComponent, type LabContext, type LabStatusRow} from '../types.js'
import {APP_REPOSITORY} from './app-image.js'
import {registryRequest, repositoryTags, type RegistryEndpoint} from './registry-api.js'
import {REGISTRY_USER, registryLabFiles, registryPaths, renderRegistryConfig, type RegistryPaths} from './registry-files.js'
import {pushAppImages} from './registry-push.js'
import {ensureCertificates} from './registry-tls.js'

/**
 * A private image registry for the lab, as a platform has: Debian's docker-registry (CNCF
 * distribution 2.8) in the root namespace on <bridge address>:5000, TLS from a lab CA that every lab
 * engine trusts (/etc/docker/certs.d), basic auth (htpasswd, user `ctl`, `.lab/registry-password`).
 * `up` runs it and pushes the app's tags from h1 (after the app component built them).
 */

const READY_TIMEOUT_MS = 15_000

function pathsOf(ctx: LabContext): RegistryPaths {
  return registryPaths(ctx.instance ?? DEFAULT_LAB_INSTANCE)
}

function registryPid(p: RegistryPaths): number | undefined {
  // The config path is in the command line: it names this lab's registry and no other.
  return runningDaemon(p.pidFile, p.config, undefined)
}

/** GET /v2/ without credentials: the registry asks for them (401) when it runs, TLS verified by the CA. */
async function answersUnauthorized(p: RegistryPaths): Promise<boolean> {
  try {
    return (await registryRequest({address: p.address, ca: readFileSync(p.caCert, 'utf8')}, 'GET', '/v2/', {}, 1000)).status === 401
  } catch {
    return false
  }
}

/** The htpasswd file holds `ctl` with the lab password (bcrypt); written again only when it does not verify. */
async function ensureHtpasswd(p: RegistryPaths, password: string): Promise<boolean> {
  const verify = existsSync(p.htpasswd)
    ? await runLocal(['htpasswd', '-v', '-i', p.htpasswd, REGISTRY_USER], {input: password, check: false, timeoutMs: 10_000})
    : undefined
  if (verify?.code !== 0) await runLocal(['htpasswd', '-B', '-i', '-c', p.htpasswd, REGISTRY_USER], {input: password, timeoutMs: 10_000})
  chmodSync(p.htpasswd, 0o600)
  return verify?.code !== 0
}

async function stopRegistry(p: RegistryPaths): Promise<number | undefined> {
  const pid = registryPid(p)
  if (pid !== undefined) await stopProcess(pid, 10_000)
  rmSync(p.pidFile, {force: true})
  return pid
}

async function startRegistry(ctx: LabContext, p: RegistryPaths): Promise<void> {
  mkdirSync(p.data, {recursive: true, mode: 0o700})
  mkdirSync(dirname(p.pidFile), {recursive: true})
  const pid = startDetached(['docker-registry', 'serve', p.config], p.log)
  writeFileSync(p.pidFile, `${pid}\n`)
  // A registry that exits at once (e.g. its address is taken) fails now, not after the timeout.
  await waitFor(async () => !isAlive(pid) || (await answersUnauthorized(p)), READY_TIMEOUT_MS, 200)
  if (!(await answersUnauthorized(p))) {
    throw new CtlError(
      `registry: https://${p.address}/v2/ does not answer 401${isAlive(pid) ? ` within ${READY_TIMEOUT_MS / 1000} s` : ` (docker-registry exited)`}`,
      {
        step: 'registry',
        hint: `See the end of ${p.log}. "address already in use": another registry holds port 5000 on every address (Debian's own docker-registry service: systemctl disable --now docker-registry).`,
      },
    )
  }
  ctx.log(`registry started on https://${p.address} (pid ${pid})`)
}

function endpointOf(ctx: LabContext, p: RegistryPaths): RegistryEndpoint & {auth: {user: string; password: string}} {
  const password = ensureLabPassword(registryLabFiles(ctx.projectRoot, ctx.instance).password)
  return {address: p.address, ca: readFileSync(p.caCert, 'utf8'), auth: {user: REGISTRY_USER, password}}
}

/** Stops the registry until the next `lab up` (pulls and deploys from it fail meanwhile). */
const registryDown: LabBreakScenario = {
  name: 'registry-down',
  summary: 'Stop the lab registry: pulls, logins and digest lookups fail until `ctl lab up`',
  async run(ctx) {
    const p = pathsOf(ctx)
    const pid = await stopRegistry(p)
    return pid === undefined ? `registry on ${p.address} was not running` : `registry on ${p.address} stopped (pid ${pid}); \`ctl lab up\` starts it again`
  },
}

export const registryComponent: LabComponent = {
  name: 'registry',
  packages: ['docker-registry', 'apache2-utils', 'openssl'],

  async up(ctx) {
    const p = pathsOf(ctx)
    const instance = ctx.instance ?? DEFAULT_LAB_INSTANCE
    const files = registryLabFiles(ctx.projectRoot, instance)
    const password = ensureLabPassword(files.password)
    const made = await ensureCertificates(p, p.host)
    const ca = readFileSync(p.caCert, 'utf8')
    // Docker reads certs.d on every connection to the registry: no engine restart.
    writeIfChanged(`${p.trustDir}/ca.crt`, ca, 0o644)
    writeIfChanged(files.ca, ca, 0o644)
    const htpasswdChanged = await ensureHtpasswd(p, password)
    const configChanged = writeIfChanged(p.config, renderRegistryConfig(p), 0o600)
    const running = registryPid(p)
    if (running !== undefined && (made.server || htpasswdChanged || configChanged)) {
      ctx.log(
        `registry: restarting (${[made.server && 'new certificate', htpasswdChanged && 'new htpasswd', configChanged && 'new config'].filter(Boolean).join(', ')})`,
      )
      await stopRegistry(p)
    }
    if (registryPid(p) === undefined || !(await answersUnauthorized(p))) {
      await stopRegistry(p)
      await startRegistry(ctx, p)
    }
    const [h1] = ctx.hosts
    if (!h1) return
    const started = Date.now()
    const outcome = await pushAppImages(h1, p, endpointOf(ctx, p))
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    if (outcome.pushed.length > 0) ctx.log(`registry: pushed ${outcome.pushed.join(', ')} from ${h1.name} in ${seconds} s`)
    else ctx.log(`registry: no changes (${outcome.unchanged.length} tags in place, checked in ${seconds} s)`)
  },

  async down(ctx) {
    const p = pathsOf(ctx)
    const pid = await stopRegistry(p)
    if (pid !== undefined) ctx.log(`registry: stopped pid ${pid}`)
    rmSync(p.dir, {recursive: true, force: true})
    rmSync(p.trustDir, {recursive: true, force: true})
    // The CA dies with the lab; the password stays, like the other lab passwords.
    rmSync(registryLabFiles(ctx.projectRoot, ctx.instance).ca, {force: true})
  },

  async status(ctx): Promise<LabStatusRow[]> {
    const p = pathsOf(ctx)
    const pid = registryPid(p)
    if (pid === undefined) return [{component: 'registry', ok: false, detail: `not running (see ${p.log})`}]
    if (!(await answersUnauthorized(p))) return [{component: 'registry', ok: false, detail: `pid ${pid} runs but https://${p.address}/v2/ does not answer 401`}]
    let tags: string
    try {
      tags = `; ${APP_REPOSITORY}: ${(await repositoryTags(endpointOf(ctx, p), APP_REPOSITORY)).sort().join(', ') || 'no tags'}`
    } catch (error) {
      tags = `; tags unavailable: ${(error as Error).message}`
    }
    return [{component: 'registry', ok: true, detail: `pid ${pid}, https://${p.address} (401 without credentials)${tags}`}]
  },

  breaks: [registryDown],
}
