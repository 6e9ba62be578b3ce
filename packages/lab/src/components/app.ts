import {createHash} from 'node:crypto'
import {copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {loadInventory} from 'ctl/inventory/load.js'
import {runLocal} from 'ctl/lib/local.js'
import {DEFAULT_LAB_INSTANCE, type LabInstance, type LabBreakScenario, type LabComponent, type LabContext, type LabHost, type LabStatusRow} from '../types.js'
import {renderHaproxyConfig, parseHaproxyCsv, type HaproxyBackend} from './app-haproxy.js'
import {APP_REPOSITORY, APP_TAGS, APPLETS, CHECK_SCRIPT, HANDLER_SCRIPT, SERVER_SCRIPT, importChanges} from './app-image.js'
import {LEGACY_PORT, legacyReloadScript} from './app-legacy.js'

/**
 * The lab's app tier: the `ctl-lab/app` image on every lab engine, the hosts-strategy `legacy` server
 * in every host namespace, and HAProxy in the root namespace on the bridge address in front of both
 * (Swarm's ingress mesh needs IPVS, which this kernel lacks, so the app publishes in host mode).
 */

/** The app's port inside the container and published (host mode) on each lab host. */
const APP_PORT = 8080
const LB_APP_PORT = 8080
const LB_STATS_PORT = 8404

/** Paths and addresses of the app tier in one lab instance (the shared lab by default). */
function appPaths(instance: LabInstance = DEFAULT_LAB_INSTANCE) {
  const appDir = `${instance.stateDir}/app`
  return {
    appDir,
    rootfs: `${appDir}/rootfs`,
    legacyReload: `${appDir}/legacy-reload`,
    haproxyDir: `${instance.stateDir}/haproxy`,
    haproxyPid: `${instance.runDir}/haproxy.pid`,
    appLb: `${instance.bridgeAddress}:${LB_APP_PORT}`,
    legacyLb: `${instance.bridgeAddress}:${LEGACY_PORT}`,
    stats: `${instance.bridgeAddress}:${LB_STATS_PORT}`,
    runDir: instance.runDir,
  }
}
type AppPaths = ReturnType<typeof appPaths>

function dockerLocal(host: LabHost, ...args: string[]): string[] {
  return ['docker', '-H', `unix://${host.dockerSocket}`, ...args]
}

/** Writes the rootfs; returns a hash of what went in, so unchanged images are not imported again. */
function buildRootfs(p: AppPaths): string {
  rmSync(p.rootfs, {recursive: true, force: true})
  for (const dir of ['bin', 'app', 'tmp', 'etc']) mkdirSync(join(p.rootfs, dir), {recursive: true})
  copyFileSync('/bin/busybox', join(p.rootfs, 'bin', 'busybox'))
  for (const applet of APPLETS) symlinkSync('busybox', join(p.rootfs, 'bin', applet))
  writeFileSync(join(p.rootfs, 'app', 'server'), SERVER_SCRIPT, {mode: 0o755})
  writeFileSync(join(p.rootfs, 'app', 'handle'), HANDLER_SCRIPT, {mode: 0o755})
  writeFileSync(join(p.rootfs, 'app', 'check'), CHECK_SCRIPT, {mode: 0o755})
  writeFileSync(join(p.rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\n')
  return createHash('sha256')
    .update(SERVER_SCRIPT)
    .update(HANDLER_SCRIPT)
    .update(CHECK_SCRIPT)
    .update(APPLETS.join())
    .update(String(statSync('/bin/busybox').size))
    .digest('hex')
    .slice(0, 12)
}

async function importImages(ctx: LabContext, p: AppPaths, build: string): Promise<void> {
  const tar = `${p.appDir}/rootfs.tar`
  await runLocal(['tar', '-C', p.rootfs, '-cf', tar, '.'])
  await Promise.all(
    ctx.hosts.map(async (host) => {
      for (const [tag, env] of Object.entries(APP_TAGS)) {
        const ref = `${APP_REPOSITORY}:${tag}`
        const have = await runLocal(dockerLocal(host, 'image', 'inspect', '-f', '{{json .Config.Env}}', ref), {check: false})
        if (have.code === 0 && have.stdout.includes(`APP_BUILD=${build}`)) continue
        await runLocal(dockerLocal(host, 'import', ...importChanges(env, build), tar, ref), {timeoutMs: 60_000})
      }
    }),
  )
  ctx.log(`app images ${Object.keys(APP_TAGS).join(', ')} on ${ctx.hosts.map((h) => h.name).join(', ')}`)
}

function haproxyBackends(hosts: readonly LabHost[], p: AppPaths): HaproxyBackend[] {
  return [
    {name: 'app', bind: p.appLb, healthPath: '/health', servers: hosts.map((h) => ({name: h.name, address: h.address, port: APP_PORT}))},
    {name: 'legacy', bind: p.legacyLb, healthPath: '/health', servers: hosts.map((h) => ({name: h.name, address: h.address, port: LEGACY_PORT}))},
  ]
}

function runningPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  if (!pid) return undefined
  try {
    // A zombie (nothing reaps orphans in this container) is not running.
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0]
    return state && state !== 'Z' ? pid : undefined
  } catch {
    return undefined
  }
}

async function startHaproxy(ctx: LabContext, p: AppPaths): Promise<void> {
  mkdirSync(p.haproxyDir, {recursive: true})
  mkdirSync(p.runDir, {recursive: true})
  const cfg = `${p.haproxyDir}/haproxy.cfg`
  const text = renderHaproxyConfig(haproxyBackends(ctx.hosts, p), {statsBind: p.stats, pidFile: p.haproxyPid})
  const pid = runningPid(p.haproxyPid)
  const unchanged = existsSync(cfg) && readFileSync(cfg, 'utf8') === text
  if (pid && unchanged) return
  writeFileSync(cfg, text)
  await runLocal(['haproxy', '-c', '-q', '-f', cfg])
  // -sf: the new process takes over the listeners, the old one finishes its connections and exits.
  await runLocal(['haproxy', '-D', '-f', cfg, '-p', p.haproxyPid, ...(pid ? ['-sf', String(pid)] : [])])
  ctx.log(`haproxy ${pid ? 'reloaded' : 'started'}: app on ${p.appLb}, legacy on ${p.legacyLb}`)
}

function legacyPidFile(host: LabHost): string {
  return `${host.runDir}/legacy/server.pid`
}

async function startLegacy(ctx: LabContext, p: AppPaths): Promise<void> {
  writeFileSync(p.legacyReload, legacyReloadScript(p.appDir, p.runDir, ctx.instance?.prefix ?? DEFAULT_LAB_INSTANCE.prefix), {mode: 0o755})
  if (!existsSync(`${p.appDir}/legacy-version`)) writeFileSync(`${p.appDir}/legacy-version`, 'v1\n')
  for (const host of ctx.hosts) {
    rmSync(`${host.runDir}/legacy/fail-health`, {force: true})
    if (runningPid(legacyPidFile(host))) continue
    await runLocal(['ip', 'netns', 'exec', host.netns, 'sh', p.legacyReload])
  }
}

/** The inventory's service → its Swarm service name (for `break app-unhealthy`). */
function swarmServiceOf(ctx: LabContext, service: string): {strategy: 'swarm' | 'hosts'; swarmName: string} {
  const inventory = loadInventory(join(ctx.projectRoot, 'inventories', `${ctx.instance?.inventoryName ?? 'lab'}.yml`)).inventory
  const found = inventory.services.find((s) => s.name === service)
  if (!found) throw new Error(`lab.yml has no service "${service}" (known: ${inventory.services.map((s) => s.name).join(', ')})`)
  return {strategy: found.strategy, swarmName: `${found.stack}_${found.name}`}
}

async function serviceContainers(host: LabHost, swarmName: string): Promise<string[]> {
  const ps = await runLocal(dockerLocal(host, 'ps', '-q', '--filter', `label=com.docker.swarm.service.name=${swarmName}`), {check: false})
  return ps.stdout.split('\n').filter(Boolean)
}

/** Makes every task (or legacy server) of a service answer 503 on /health until the next `lab up`. */
const appUnhealthy: LabBreakScenario = {
  name: 'app-unhealthy',
  summary: "Make a service's /health answer 503 on every replica (argument: the service, e.g. app)",
  argument: 'service',
  async run(ctx, argument) {
    const service = argument ?? 'app'
    const {strategy, swarmName} = swarmServiceOf(ctx, service)
    const broken: string[] = []
    for (const host of ctx.hosts) {
      if (strategy === 'hosts') {
        if (!runningPid(legacyPidFile(host))) continue
        writeFileSync(`${host.runDir}/legacy/fail-health`, '')
        broken.push(`${host.name}:legacy`)
        continue
      }
      for (const id of await serviceContainers(host, swarmName)) {
        await runLocal(dockerLocal(host, 'exec', id, 'touch', '/tmp/fail-health'))
        broken.push(`${host.name}:${id.slice(0, 12)}`)
      }
    }
    if (broken.length === 0) throw new Error(`no running replica of ${service} found`)
    return `/health of ${service} now answers 503 on ${broken.join(', ')}`
  },
}

/** `lab up` repairs app-unhealthy: every app container answers healthy again. */
async function clearUnhealthy(ctx: LabContext): Promise<void> {
  let inventory
  try {
    inventory = loadInventory(join(ctx.projectRoot, 'inventories', `${ctx.instance?.inventoryName ?? 'lab'}.yml`)).inventory
  } catch {
    return
  }
  for (const svc of inventory.services.filter((s) => s.strategy === 'swarm')) {
    for (const host of ctx.hosts) {
      for (const id of await serviceContainers(host, `${svc.stack}_${svc.name}`)) {
        await runLocal(dockerLocal(host, 'exec', id, 'rm', '-f', '/tmp/fail-health'), {check: false})
      }
    }
  }
}

async function haproxyServers(p: AppPaths): Promise<ReturnType<typeof parseHaproxyCsv>> {
  const response = await fetch(`http://${p.stats}/stats;csv`, {signal: AbortSignal.timeout(2000)})
  return parseHaproxyCsv(await response.text())
}

export const appComponent: LabComponent = {
  name: 'app',
  packages: ['haproxy', 'busybox-static'],
  async up(ctx) {
    const p = appPaths(ctx.instance)
    mkdirSync(p.appDir, {recursive: true})
    const build = buildRootfs(p)
    await importImages(ctx, p, build)
    await startLegacy(ctx, p)
    await startHaproxy(ctx, p)
    await clearUnhealthy(ctx)
  },
  async down(ctx) {
    const p = appPaths(ctx.instance)
    for (const pidFile of [p.haproxyPid, ...ctx.hosts.map(legacyPidFile)]) {
      const pid = runningPid(pidFile)
      if (pid) process.kill(pid, 'SIGKILL')
      rmSync(pidFile, {force: true})
    }
    rmSync(p.appDir, {recursive: true, force: true})
    rmSync(p.haproxyDir, {recursive: true, force: true})
  },
  async status(ctx) {
    const p = appPaths(ctx.instance)
    const rows: LabStatusRow[] = []
    for (const host of ctx.hosts) {
      const images = await runLocal(dockerLocal(host, 'images', '--format', '{{.Tag}}', APP_REPOSITORY), {check: false})
      const tags = images.stdout.split('\n').filter(Boolean)
      const missing = Object.keys(APP_TAGS).filter((t) => !tags.includes(t))
      rows.push({
        component: 'app image',
        host: host.name,
        ok: missing.length === 0,
        detail: missing.length ? `missing ${missing.join(', ')}` : tags.sort().join(', '),
      })
      rows.push({component: 'legacy', host: host.name, ok: Boolean(runningPid(legacyPidFile(host))), detail: `port ${LEGACY_PORT}`})
    }
    const pid = runningPid(p.haproxyPid)
    let detail = pid ? `pid ${pid}` : 'not running'
    if (pid) {
      try {
        detail += `; ${(await haproxyServers(p)).map((s) => `${s.backend}/${s.server} ${s.status}`).join(', ')}`
      } catch (error) {
        detail += `; stats unavailable: ${(error as Error).message}`
      }
    }
    rows.push({component: 'haproxy', ok: Boolean(pid), detail})
    return rows
  },
  breaks: [appUnhealthy],
}
