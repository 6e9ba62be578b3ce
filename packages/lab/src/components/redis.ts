import {existsSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {CtlError, ExitCode} from 'ctl/lib/errors.js'
import {forEachLimited} from 'ctl/lib/limit.js'
import {runLocal} from 'ctl/lib/local.js'
import {lastLines} from 'ctl/lib/output.js'
import {asHostDaemon, inNetns, runningDaemon, startDetached, stopProcess, waitFor} from '../daemon.js'
import {ensureLabPassword, writeIfChanged} from '../lab-files.js'
import {isDefaultLab, type LabComponent, type LabContext, type LabHost, type LabStatusRow} from '../types.js'
import {REDIS_MASTER_NAME, REDIS_PASSWORD_FILE, REDIS_PORT, redisConf, redisControlScript, redisPaths, SENTINEL_PORT, sentinelConf} from './redis-files.js'

/**
 * Redis with Sentinel (seed 002): a master, two replicas and three sentinels, one of each per lab
 * host, from Debian's redis-server and redis-sentinel, password protected. `up` starts what is not
 * running (with the configs Redis and Sentinel rewrote, so a failover's outcome stays) and waits
 * until the sentinels name a master that answers; it never chooses a master itself: after every
 * member went down that is `ctl runbook redis-recover`'s decision.
 */

const serverRunning = (host: LabHost) => runningDaemon(redisPaths(host).pid, 'redis-server', host.netns)
const sentinelRunning = (host: LabHost) => runningDaemon(redisPaths(host).sentinelPid, 'redis-sentinel', host.netns)

function password(ctx: LabContext): string {
  return ensureLabPassword(join(ctx.projectRoot, REDIS_PASSWORD_FILE))
}

/** redis-cli against a lab address from this machine (the bridge reaches every host), the password in the environment. */
async function labRedisCli(ctx: LabContext, address: string, port: number, args: readonly string[]) {
  return runLocal(['redis-cli', '--no-auth-warning', '-h', address, '-p', String(port), ...args], {
    timeoutMs: 10_000,
    check: false,
    env: {REDISCLI_AUTH: password(ctx)},
  })
}

/** The master the sentinels name (the first that answers), as a lab host. */
async function sentinelMaster(ctx: LabContext): Promise<LabHost | undefined> {
  for (const host of ctx.hosts) {
    const r = await labRedisCli(ctx, host.address, SENTINEL_PORT, ['SENTINEL', 'get-master-addr-by-name', REDIS_MASTER_NAME])
    const address = r.code === 0 ? r.stdout.split('\n')[0]?.trim() : undefined
    const found = ctx.hosts.find((h) => h.address === address)
    if (found) return found
  }
  return undefined
}

async function role(ctx: LabContext, host: LabHost): Promise<string | undefined> {
  const r = await labRedisCli(ctx, host.address, REDIS_PORT, ['ROLE'])
  return r.code === 0 ? r.stdout.split('\n')[0]?.trim() : undefined
}

async function up(ctx: LabContext): Promise<void> {
  if (!isDefaultLab(ctx)) return
  const pw = password(ctx)
  const first = ctx.hosts[0]!
  await forEachLimited(ctx.hosts, 3, async (host) => {
    const p = redisPaths(host)
    mkdirSync(p.data, {recursive: true, mode: 0o700})
    mkdirSync(p.run, {recursive: true, mode: 0o755})
    if (!existsSync(p.conf)) writeFileSync(p.conf, redisConf(host, pw, first), {mode: 0o600})
    if (!existsSync(p.sentinelConf)) writeFileSync(p.sentinelConf, sentinelConf(host, pw, first), {mode: 0o600})
    writeIfChanged(p.script, redisControlScript(host), 0o755)
    if (serverRunning(host) === undefined) {
      const r = await runLocal(inNetns(host.netns, [p.script, 'start']), {timeoutMs: 30_000, check: false})
      if (r.code !== 0) throw new CtlError(`redis-server did not start on ${host.name}: ${lastLines(r, 5)}`, {host: host.name, hint: `See ${p.log}`})
      if (!(await waitFor(async () => (await role(ctx, host)) !== undefined, 20_000, 200)))
        throw new CtlError(`redis-server did not start on ${host.name}`, {host: host.name, hint: `See ${p.log}`})
      ctx.log(`${host.name}: redis-server started`)
    }
    if (sentinelRunning(host) === undefined) {
      startDetached(asHostDaemon(host, ['redis-sentinel', p.sentinelConf]), `${p.sentinelLog}.out`)
      if (!(await waitFor(() => sentinelRunning(host) !== undefined, 10_000, 100)))
        throw new CtlError(`redis-sentinel did not start on ${host.name}`, {host: host.name, hint: `See ${p.sentinelLog}`})
      ctx.log(`${host.name}: redis-sentinel started`)
    }
  })
  // Ready when the sentinels name a master that says it is one (after a restart of all, that may take a failover).
  const ready = await waitFor(
    async () => {
      const master = await sentinelMaster(ctx)
      return master !== undefined && (await role(ctx, master)) === 'master'
    },
    60_000,
    500,
  )
  if (!ready)
    throw new CtlError('redis: the sentinels name no master that answers as one', {
      hint: 'After every member went down: ctl runbook redis-recover lab. Logs: /var/lib/ctl-lab/h*/redis/*.log',
    })
}

async function down(ctx: LabContext): Promise<void> {
  await forEachLimited(ctx.hosts, 3, async (host) => {
    for (const pid of [sentinelRunning(host), serverRunning(host)]) if (pid !== undefined) await stopProcess(pid, 5000)
    rmSync(redisPaths(host).base, {recursive: true, force: true})
    rmSync(redisPaths(host).run, {recursive: true, force: true})
  })
}

async function status(ctx: LabContext): Promise<LabStatusRow[]> {
  if (!isDefaultLab(ctx)) return []
  return Promise.all(
    ctx.hosts.map(async (host) => {
      const server = serverRunning(host)
      const sentinel = sentinelRunning(host)
      const r = server === undefined ? undefined : await role(ctx, host)
      return {
        component: 'redis',
        host: host.name,
        ok: server !== undefined && sentinel !== undefined && r !== undefined,
        detail: `redis-server ${server === undefined ? 'not running' : `${server} (${r ?? 'no answer'})`}, sentinel ${sentinel ?? 'not running'}`,
      }
    }),
  )
}

function killServer(host: LabHost): boolean {
  const pid = serverRunning(host)
  if (pid === undefined) return false
  process.kill(pid, 'SIGKILL')
  return true
}

export const redisComponent: LabComponent = {
  name: 'redis',
  packages: ['redis-server', 'redis-sentinel', 'redis-tools'],
  up,
  down,
  status,
  breaks: [
    {
      name: 'redis-master-down',
      summary: 'kill -9 the redis-server the sentinels name as master: they fail over to a replica after 2 s',
      async run(ctx) {
        const master = await sentinelMaster(ctx)
        if (!master || !killServer(master))
          throw new CtlError('redis-master-down: no running master to kill', {exitCode: ExitCode.cannotRun, hint: 'ctl lab up first'})
        return `redis: killed the master's redis-server on ${master.name} with SIGKILL. Recover with: ctl runbook redis-failover lab (or let Sentinel fail over).`
      },
    },
    {
      name: 'redis-all-down',
      summary: 'kill -9 every redis-server, one after another (the sentinels stay): no master is left',
      async run(ctx) {
        const killed: string[] = []
        for (const host of ctx.hosts) if (killServer(host)) killed.push(host.name)
        return `redis: killed redis-server with SIGKILL on ${killed.join(', ') || 'none'}. Recover with: ctl runbook redis-recover lab.`
      },
    },
  ],
}
