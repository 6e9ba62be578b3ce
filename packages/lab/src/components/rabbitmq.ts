import {chmodSync, existsSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {CtlError, ExitCode} from 'ctl/lib/errors.js'
import {forEachLimited} from 'ctl/lib/limit.js'
import {runLocal} from 'ctl/lib/local.js'
import {parseRabbitView, RABBIT_VIEW_EVAL} from 'ctl/rabbitmq/facts.js'
import {lastLines} from 'ctl/lib/output.js'
import {inNetns, runningDaemon, stopProcess, waitFor} from '../daemon.js'
import {ensureLabPassword, writeIfChanged} from '../lab-files.js'
import {isDefaultLab, labBackupHost, type LabComponent, type LabContext, type LabHost, type LabStatusRow} from '../types.js'
import {RABBITMQ_COOKIE_FILE, rabbitmqConfig, rabbitmqControlScript, rabbitmqEnv, rabbitmqPaths, rabbitNodeName} from './rabbitmq-files.js'

/**
 * A 3-node RabbitMQ cluster (seed 002), one node per lab host, from Debian's rabbitmq-server. `up`
 * starts the nodes that are not running (all at once: after a full stop they wait for each other, the
 * one that stopped last among them) and joins h2 and h3 to h1's cluster when they are not in it.
 */

const running = (host: LabHost) => runningDaemon(rabbitmqPaths(host).pid, 'rabbit', host.netns)

/** rabbitmqctl against a host's node, run in its namespace with its environment (the cookie in its root home). */
async function labRabbitmqctl(host: LabHost, args: readonly string[], timeoutMs = 60_000) {
  const env = Object.entries(rabbitmqEnv(host)).map(([k, v]) => `${k}=${v}`)
  return runLocal(inNetns(host.netns, ['env', ...env, '/usr/lib/rabbitmq/bin/rabbitmqctl', '--longnames', '-n', rabbitNodeName(host), ...args]), {
    timeoutMs,
    check: false,
  })
}

async function control(host: LabHost, action: 'start' | 'stop' | 'kill') {
  return runLocal(inNetns(host.netns, [rabbitmqPaths(host).script, action]), {timeoutMs: 120_000, check: false})
}

/** The cluster as a host's node sees it (members and running nodes); undefined when it does not answer. */
async function clusterView(host: LabHost): Promise<{members: string[]; running: string[]} | undefined> {
  // The node's own view (ctl's eval): cluster_status hangs while a peer is cut off.
  const r = await labRabbitmqctl(host, ['-q', 'eval', RABBIT_VIEW_EVAL], 30_000)
  if (r.code !== 0) return undefined
  const view = parseRabbitView(r.stdout)
  return view && {members: view.diskNodes, running: view.runningNodes}
}
const runningNodes = async (host: LabHost) => (await clusterView(host))?.running

function writeCookie(file: string, cookie: string): void {
  if (existsSync(file)) chmodSync(file, 0o600)
  writeFileSync(file, cookie, {mode: 0o400})
  chmodSync(file, 0o400)
}

/** The backup host's cookie, in its root home (bound on /root in its SSH sessions). */
const backupCookie = (host: LabHost) => `${host.stateDir}/root/.erlang.cookie`

async function up(ctx: LabContext): Promise<void> {
  if (!isDefaultLab(ctx)) return
  const hosts = ctx.hosts.slice(0, 3)
  const cookie = ensureLabPassword(join(ctx.projectRoot, RABBITMQ_COOKIE_FILE))
  for (const host of hosts) {
    const p = rabbitmqPaths(host)
    writeIfChanged(p.config, rabbitmqConfig(host), 0o644)
    writeIfChanged(p.plugins, '[].\n', 0o644)
    writeIfChanged(p.script, rabbitmqControlScript(host), 0o755)
    writeCookie(`${p.home}/.erlang.cookie`, cookie)
  }
  // The backup host runs no node but backs the cluster up (rabbitmq-backup: rabbitmqctl against it), with its cookie.
  const backupHost = labBackupHost(ctx)
  if (backupHost) writeCookie(backupCookie(backupHost), cookie)
  await forEachLimited(hosts, hosts.length, async (host) => {
    if (running(host) !== undefined) return
    const r = await control(host, 'start')
    if (r.code !== 0)
      throw new CtlError(`rabbitmq-server did not start on ${host.name}: ${lastLines(r, 5)}`, {host: host.name, hint: `See ${rabbitmqPaths(host).logBase}`})
    ctx.log(`${host.name}: rabbitmq-server started`)
  })
  await forEachLimited(hosts, hosts.length, async (host) => {
    // await_startup fails at once while the node has not registered with epmd yet: asked again until it answers.
    let r = await labRabbitmqctl(host, ['await_startup', '--timeout', '10'], 30_000)
    for (const deadline = Date.now() + 300_000; r.code !== 0 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      r = await labRabbitmqctl(host, ['await_startup', '--timeout', '10'], 30_000)
    }
    if (r.code !== 0)
      throw new CtlError(`RabbitMQ on ${host.name} did not finish starting: ${lastLines(r, 3)}`, {
        host: host.name,
        hint: 'After a full stop the nodes wait for the one that stopped last; if it is lost: ctl runbook rabbitmq-recover lab.',
      })
  })
  const seed = hosts[0]!
  await healPartition(ctx, seed, hosts.slice(1))
  for (const host of hosts.slice(1)) {
    // A member already (perhaps partitioned, or the seed down): never joined again.
    if ((await clusterView(host))?.members.includes(rabbitNodeName(seed))) continue
    ctx.log(`${host.name}: joining ${rabbitNodeName(seed)}`)
    for (const args of [['stop_app'], ['join_cluster', rabbitNodeName(seed)], ['start_app']]) {
      let r = await labRabbitmqctl(host, args)
      // A node that lost its data and starts afresh is still a member in the seed's view: forgotten first (lab repair).
      if (r.code !== 0 && args[0] === 'join_cluster' && /inconsistent_cluster/.test(`${r.stdout}${r.stderr}`)) {
        ctx.log(`${host.name}: ${rabbitNodeName(seed)} still lists it from before its data was lost; forgetting it there first`)
        await labRabbitmqctl(seed, ['forget_cluster_node', rabbitNodeName(host)])
        r = await labRabbitmqctl(host, args)
      }
      if (r.code !== 0) throw new CtlError(`rabbitmqctl ${args.join(' ')} failed on ${host.name}: ${lastLines(r, 3)}`, {host: host.name})
    }
  }
  const whole = await waitFor(async () => (await runningNodes(seed))?.length === hosts.length, 60_000, 1000)
  if (!whole)
    throw new CtlError('RabbitMQ: the cluster does not show every node running', {
      hint: 'A network partition or a lost node: ctl check run lab rabbitmq, then ctl runbook rabbitmq-recover lab.',
    })
}

/**
 * A partition (a host cut off longer than net_ticktime, e.g. `lab break node-down`; the lab's nodes
 * never heal one themselves): the members that do not see the seed running restart their app and
 * rejoin its side, as rabbitmq-recover's heal step does on a platform.
 */
async function healPartition(ctx: LabContext, seed: LabHost, others: readonly LabHost[]): Promise<void> {
  for (const host of others) {
    const view = await clusterView(host)
    if (!view || !view.members.includes(rabbitNodeName(seed)) || view.running.includes(rabbitNodeName(seed))) continue
    ctx.log(`${host.name}: does not see ${rabbitNodeName(seed)} running (a partition); restarting its app to rejoin`)
    for (const args of [['stop_app'], ['start_app']]) {
      const r = await labRabbitmqctl(host, args)
      if (r.code !== 0) throw new CtlError(`rabbitmqctl ${args.join(' ')} failed on ${host.name}: ${lastLines(r, 3)}`, {host: host.name})
    }
  }
}

/** epmd processes in a host's namespace (started by the node; they outlive it). */
function epmdIn(host: LabHost): number[] {
  const target = statSync(`/run/netns/${host.netns}`, {throwIfNoEntry: false})?.ino
  if (target === undefined) return []
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`).endsWith('/epmd') && readlinkSync(`/proc/${pid}/ns/net`).includes(`[${target}]`)
      } catch {
        return false
      }
    })
}

async function down(ctx: LabContext): Promise<void> {
  await forEachLimited(ctx.hosts.slice(0, 3), 3, async (host) => {
    const pid = running(host)
    if (pid !== undefined) await stopProcess(pid, 2000)
    for (const epmd of epmdIn(host)) await stopProcess(epmd, 2000)
    const p = rabbitmqPaths(host)
    rmSync(p.base, {recursive: true, force: true})
    rmSync(`${p.home}/.erlang.cookie`, {force: true})
  })
  const backupHost = labBackupHost(ctx)
  if (backupHost) rmSync(backupCookie(backupHost), {force: true})
}

async function status(ctx: LabContext): Promise<LabStatusRow[]> {
  if (!isDefaultLab(ctx)) return []
  return Promise.all(
    ctx.hosts.slice(0, 3).map(async (host) => {
      const pid = running(host)
      const nodes = pid === undefined ? undefined : await runningNodes(host)
      return {
        component: 'rabbitmq',
        host: host.name,
        ok: nodes?.length === 3,
        detail:
          pid === undefined
            ? 'rabbitmq-server not running'
            : nodes
              ? `${rabbitNodeName(host)}: ${nodes.length} of 3 nodes running`
              : `${rabbitNodeName(host)} does not answer`,
      }
    }),
  )
}

export const rabbitmqComponent: LabComponent = {
  name: 'rabbitmq',
  packages: ['rabbitmq-server'],
  up,
  down,
  status,
  breaks: [
    {
      name: 'rabbitmq-node-down',
      summary: 'kill -9 one RabbitMQ node (default h3): the other two keep the cluster',
      argument: 'host',
      async run(ctx, argument) {
        const host = ctx.hosts.slice(0, 3).find((h) => h.name === (argument ?? 'h3'))
        if (!host) throw new CtlError(`rabbitmq-node-down: no RabbitMQ node on ${argument}`, {exitCode: ExitCode.cannotRun})
        await control(host, 'kill')
        return `rabbitmq: killed ${rabbitNodeName(host)} on ${host.name} (kill -9). Recover with: ctl runbook rabbitmq-recover lab.`
      },
    },
    {
      name: 'rabbitmq-full-stop',
      summary: 'stop every RabbitMQ node cleanly, one after another (h1, h2, then h3: h3 stopped last)',
      async run(ctx) {
        const hosts = ctx.hosts.slice(0, 3)
        for (const host of hosts) {
          const r = await control(host, 'stop')
          if (r.code !== 0) throw new CtlError(`stopping RabbitMQ on ${host.name} failed: ${lastLines(r, 3)}`, {host: host.name})
        }
        return `rabbitmq: stopped ${hosts.map((h) => h.name).join(', ')} in that order (${hosts.at(-1)!.name} last). Recover with: ctl runbook rabbitmq-recover lab.`
      },
    },
  ],
}
