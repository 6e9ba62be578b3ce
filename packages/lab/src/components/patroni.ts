import {chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {CtlError} from 'ctl/lib/errors.js'
import {runLocal} from 'ctl/lib/local.js'
import {renderCommand} from 'ctl/lib/shell.js'
import {forEachLimited} from 'ctl/lib/limit.js'
import {inNetns, runningDaemon, waitFor} from '../daemon.js'
import {labFilesDir} from '../instance.js'
import {ensureLabPassword} from '../lab-files.js'
import {DEFAULT_LAB_INSTANCE, isDefaultLab, type LabComponent, type LabContext, type LabHost, type LabStatusRow} from '../types.js'
import {gatherClusterFacts, isRunningState, type ClusterFacts} from 'ctl/patroni/facts.js'
import {restCall} from 'ctl/patroni/rest.js'
import type {PatroniTopology, RunOn} from 'ctl/patroni/topology.js'
import {
  ETCD_CLIENT_PORT,
  etcdScript,
  haproxyScript,
  pgbouncerScript,
  renderPgbouncerConfig,
  renderPgbouncerUsers,
  PATRONI_REST_PORT,
  PATRONI_SCOPE,
  patroniLabPaths,
  patroniMemberName,
  patroniScript,
  PG_PORT,
  PG_SUPERUSER,
  PG_WRITE_PORT,
  renderEtcdConfig,
  renderHaproxyConfig,
  renderPatroniConfig,
  SERVICE_USER,
  type LabPgPasswords,
} from './patroni-files.js'
import {lastLines} from 'ctl/lib/output.js'
import {ensurePostgresSsh, removePostgresSsh} from './postgres-ssh.js'

/**
 * etcd (3 members) and Patroni + PostgreSQL 15 (one member per lab host, up to 3), plus an HAProxy
 * write endpoint on h1 (seed 004). Each daemon is controlled by a lab-installed script that
 * inventories/lab.yml names as the member's `control`, run inside the host's network namespace.
 */

/** The lab's Patroni runs on the first three hosts (one member each). */
const PATRONI_LAB_SIZE = 3
const READY_TIMEOUT_MS = 120_000
/** How long `up` waits before treating a replica that does not stream as stuck. */
const FIRST_WAIT_MS = 45_000

function patroniHosts(ctx: Pick<LabContext, 'hosts'>): LabHost[] {
  return ctx.hosts.slice(0, PATRONI_LAB_SIZE)
}

/** The lab-generated passwords, referenced by inventories/lab.yml as `file:../.lab/<name>`. */
function labPasswordFiles(projectRoot: string): {superuser: string; replication: string} {
  const dir = labFilesDir(projectRoot)
  return {superuser: `${dir}/patroni-superuser.password`, replication: `${dir}/patroni-replication.password`}
}

function ensureLabPasswords(projectRoot: string): LabPgPasswords {
  const files = labPasswordFiles(projectRoot)
  return {superuser: ensureLabPassword(files.superuser), replication: ensureLabPassword(files.replication)}
}

/** pgBackRest's repository key (inventories/lab.yml: databases.patroni.pgbackrest.cipherPass). */
function ensureCipherPass(projectRoot: string): void {
  ensureLabPassword(`${labFilesDir(projectRoot)}/pgbackrest-cipher.password`)
}

/** The lab cluster as the Patroni code sees it (same shape as the inventory's databases.patroni). */
function labTopology(hosts: LabHost[]): PatroniTopology {
  return {
    scope: PATRONI_SCOPE,
    user: PG_SUPERUSER,
    database: 'postgres',
    maxLagBytes: 1048576,
    members: hosts.map((h) => ({name: patroniMemberName(h), node: h.name, address: h.address, restPort: PATRONI_REST_PORT, pgPort: PG_PORT})),
  }
}

/** Runs curl/psql from this machine's root namespace: the bridge reaches every lab address. */
const localRunOn: RunOn = async (_node, command, options = {}) =>
  runLocal(['sh', '-c', renderCommand(command)], {input: options.stdin, timeoutMs: options.timeoutMs ?? 30_000, check: false})

function writeIfChanged(path: string, content: string, mode: number, owner?: string): boolean {
  mkdirSync(dirname(path), {recursive: true, mode: 0o755})
  const changed = !existsSync(path) || readFileSync(path, 'utf8') !== content
  if (changed) writeFileSync(path, content, {mode})
  chmodSync(path, mode)
  if (owner) chownToService(path)
  return changed
}

let serviceIds: {uid: number; gid: number} | undefined
function chownToService(path: string): void {
  if (!serviceIds) {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${SERVICE_USER}:`))
    if (!line)
      throw new CtlError(`No ${SERVICE_USER} user: is postgresql-15 installed?`, {
        code: 'lab.patroni',
        hint: 'apt-get install postgresql-15 patroni etcd-server',
      })
    const [, , uid, gid] = line.split(':')
    serviceIds = {uid: Number(uid), gid: Number(gid)}
  }
  chownSync(path, serviceIds.uid, serviceIds.gid)
}

/** Writes configs and control scripts for one host; returns whether Patroni's config changed. */
function installHostFiles(host: LabHost, hosts: LabHost[], passwords: LabPgPasswords, withEndpoint: boolean): boolean {
  const p = patroniLabPaths(host)
  // PostgreSQL (as postgres) must reach its files under the host's state dir.
  for (const dir of [host.stateDir, host.runDir]) {
    mkdirSync(dir, {recursive: true, mode: 0o755})
    chmodSync(dir, 0o755)
  }
  for (const dir of [p.etcdDir, p.patroniDir]) {
    mkdirSync(dir, {recursive: true, mode: 0o700})
    chownToService(dir)
  }
  writeIfChanged(p.etcdConfig, renderEtcdConfig(host, hosts), 0o600, SERVICE_USER)
  const changed = writeIfChanged(p.patroniConfig, renderPatroniConfig(host, hosts, passwords), 0o600, SERVICE_USER)
  writeIfChanged(p.etcdScript, etcdScript(host), 0o755)
  writeIfChanged(p.patroniScript, patroniScript(host), 0o755)
  if (withEndpoint) {
    writeIfChanged(p.haproxyConfig, renderHaproxyConfig(host, hosts), 0o644)
    writeIfChanged(p.haproxyScript, haproxyScript(host), 0o755)
    mkdirSync(p.pgbouncerDir, {recursive: true, mode: 0o700})
    chownToService(p.pgbouncerDir)
    writeIfChanged(p.pgbouncerConfig, renderPgbouncerConfig(host), 0o600, SERVICE_USER)
    writeIfChanged(p.pgbouncerUsers, renderPgbouncerUsers(passwords), 0o600, SERVICE_USER)
    writeIfChanged(p.pgbouncerScript, pgbouncerScript(host), 0o755)
  }
  return changed
}

/** Runs a control script in the host's namespace, as `ctl` would over SSH. */
async function control(host: LabHost, script: string, action: 'start' | 'stop' | 'kill' | 'status'): Promise<{code: number; stdout: string; stderr: string}> {
  return runLocal(inNetns(host.netns, [script, action]), {timeoutMs: 90_000, check: false})
}

async function controlOrFail(host: LabHost, script: string, action: 'start' | 'stop' | 'kill'): Promise<void> {
  const r = await control(host, script, action)
  if (r.code !== 0) {
    throw new CtlError(`${script} ${action} failed on ${host.name}: ${lastLines(r, 5)}`, {
      host: host.name,
      step: `patroni ${action}`,
      code: 'lab.patroni',
      hint: `Look at the logs under ${host.stateDir}/etcd and ${host.stateDir}/patroni.`,
    })
  }
}

async function etcdHealthy(host: LabHost): Promise<boolean> {
  const r = await runLocal(['curl', '-s', '--max-time', '2', `http://${host.address}:${ETCD_CLIENT_PORT}/health`], {check: false, timeoutMs: 5000})
  return r.code === 0 && /"health":\s*"true"/.test(r.stdout)
}

/**
 * One leader and every other member streaming in the leader's pg_stat_replication and running: a
 * standby streams before it reaches a consistent state, and until then it refuses connections.
 */
function clusterReady(facts: ClusterFacts): boolean {
  return facts.leaderHealthy && facts.members.every((m) => m.name === facts.leader || (m.streaming && isRunningState(m.state)))
}

async function labClusterFacts(ctx: Pick<LabContext, 'hosts' | 'projectRoot'>): Promise<ClusterFacts> {
  const passwords = ensureLabPasswords(ctx.projectRoot)
  return gatherClusterFacts(localRunOn, labTopology(patroniHosts(ctx)), passwords.superuser)
}

async function waitForCluster(ctx: Pick<LabContext, 'hosts' | 'projectRoot'>, timeoutMs = READY_TIMEOUT_MS): Promise<ClusterFacts> {
  let facts: ClusterFacts | undefined
  const ok = await waitFor(async () => clusterReady((facts = await labClusterFacts(ctx))), timeoutMs, 500)
  if (!ok) {
    const seen = facts
      ? facts.members.map((m) => `${m.name}: ${m.role}/${m.state}${m.role === 'leader' ? '' : m.streaming ? ' streaming' : ' not streaming'}`).join('; ')
      : 'no answer'
    throw new CtlError(`Patroni did not reach one leader and ${patroniHosts(ctx).length - 1} streaming replicas within ${timeoutMs / 1000} s (${seen})`, {
      code: 'lab.patroni',
      hint: 'Look at /var/lib/ctl-lab/h<i>/patroni/patroni.log, then run `ctl lab up` again.',
    })
  }
  return facts!
}

async function up(ctx: LabContext): Promise<void> {
  const hosts = patroniHosts(ctx)
  const passwords = ensureLabPasswords(ctx.projectRoot)
  const endpointHost = hosts[0]!
  for (const host of hosts) installHostFiles(host, hosts, passwords, host === endpointHost)
  ensureCipherPass(ctx.projectRoot)
  await ensurePostgresSsh(ctx.projectRoot, ctx.instance ?? DEFAULT_LAB_INSTANCE)
  refuseLostEtcdMember(hosts)
  await forEachLimited(hosts, hosts.length, (h) => controlOrFail(h, patroniLabPaths(h).etcdScript, 'start'))
  if (!(await waitFor(async () => (await Promise.all(hosts.map(etcdHealthy))).every(Boolean), 30_000, 200))) {
    throw new CtlError('etcd did not become healthy within 30 s', {code: 'lab.patroni', hint: `Look at ${patroniLabPaths(hosts[0]!).etcdLog}.`})
  }
  ctx.log('etcd healthy; starting Patroni')
  await forEachLimited(hosts, hosts.length, (h) => controlOrFail(h, patroniLabPaths(h).patroniScript, 'start'))
  await controlOrFail(endpointHost, patroniLabPaths(endpointHost).haproxyScript, 'start')
  await controlOrFail(endpointHost, patroniLabPaths(endpointHost).pgbouncerScript, 'start')
  let facts = await waitForCluster(ctx, FIRST_WAIT_MS).catch(() => undefined)
  if (!facts) {
    await reinitializeStuckReplicas(ctx)
    facts = await waitForCluster(ctx)
  }
  ctx.log(`leader ${facts.leader}, ${facts.members.filter((m) => m.streaming).length} streaming replicas`)
}

/**
 * A replica that runs but does not stream (e.g. still on an old timeline after a crash) is
 * re-cloned from the leader with Patroni's POST /reinitialize: lab data only.
 */
async function reinitializeStuckReplicas(ctx: LabContext): Promise<void> {
  const facts = await labClusterFacts(ctx)
  if (!facts.leaderHealthy) return
  const topology = labTopology(patroniHosts(ctx))
  for (const m of facts.members.filter((x) => x.name !== facts.leader && x.reachable && !x.streaming)) {
    ctx.log(`${m.name} runs but does not stream from ${facts.leader}: reinitializing it`)
    await restCall(
      localRunOn,
      topology.members.find((a) => a.name === m.name)!,
      {method: 'POST', path: '/reinitialize', body: {force: true}},
    )
  }
}

async function down(ctx: LabContext): Promise<void> {
  const hosts = patroniHosts(ctx)
  await forEachLimited(hosts, hosts.length, async (host) => {
    const p = patroniLabPaths(host)
    // The lab is being removed: no graceful shutdown needed.
    if (existsSync(p.haproxyScript)) await control(host, p.haproxyScript, 'kill')
    if (existsSync(p.pgbouncerScript)) await control(host, p.pgbouncerScript, 'kill')
    if (existsSync(p.patroniScript)) await control(host, p.patroniScript, 'kill')
    if (existsSync(p.etcdScript)) await control(host, p.etcdScript, 'kill')
    for (const path of [
      p.etcdDir,
      p.patroniDir,
      p.pgbackrestDir,
      p.pgbouncerDir,
      p.etcdScript,
      p.patroniScript,
      p.haproxyScript,
      p.pgbouncerScript,
      p.socketDir,
    ])
      rmSync(path, {recursive: true, force: true})
  })
  if (!isDefaultLab(ctx)) return
  // Point-in-time restores' scratch servers (ctl runbook pg-pitr): their processes died with the hosts.
  for (const dir of readdirSync('/var/tmp').filter((d) => d.startsWith(`ctl-pitr-${PATRONI_SCOPE}-`))) rmSync(`/var/tmp/${dir}`, {recursive: true, force: true})
  removePostgresSsh(ctx.projectRoot, ctx.instance ?? DEFAULT_LAB_INSTANCE)
}

async function status(ctx: LabContext): Promise<LabStatusRow[]> {
  const hosts = patroniHosts(ctx)
  const rows: LabStatusRow[] = []
  for (const host of hosts) {
    const healthy = await etcdHealthy(host)
    rows.push({
      component: 'etcd',
      host: host.name,
      ok: healthy,
      detail: healthy ? `etcd-${host.name} healthy on ${host.address}:${ETCD_CLIENT_PORT}` : `etcd-${host.name} not healthy`,
    })
  }
  const facts = await labClusterFacts(ctx)
  for (const m of facts.members) {
    const ok = m.name === facts.leader ? facts.leaderHealthy : m.streaming
    const what = m.name === facts.leader ? `leader${facts.leaderHealthy ? '' : ' (DOWN)'}` : `${m.role}, ${m.streaming ? 'streaming' : 'NOT streaming'}`
    rows.push({component: 'patroni', host: m.node, ok, detail: `${m.name} ${what}, state ${m.state}, timeline ${m.timeline ?? '?'}`})
  }
  const endpoint = hosts[0]!
  const probe = await runLocal(['pg_isready', '-q', '-t', '3', '-h', endpoint.address, '-p', String(PG_WRITE_PORT)], {check: false, timeoutMs: 10_000})
  rows.push({
    component: 'patroni',
    host: endpoint.name,
    ok: probe.code === 0,
    detail: `write endpoint (HAProxy) ${endpoint.address}:${PG_WRITE_PORT} ${probe.code === 0 ? 'accepts connections' : 'does not accept connections'}`,
  })
  return rows
}

/** Kills the leader's Patroni and PostgreSQL at once (kill -9), like a crashed host. */
async function leaderLoss(ctx: LabContext): Promise<string> {
  const facts = await labClusterFacts(ctx)
  const leader = patroniHosts(ctx).find((h) => patroniMemberName(h) === facts.leader)
  if (!leader || !facts.leaderHealthy) {
    throw new CtlError(`No healthy Patroni leader to kill (leader: ${facts.leader ?? 'none'})`, {code: 'lab.break', hint: 'Run `ctl lab up` first.'})
  }
  await controlOrFail(leader, patroniLabPaths(leader).patroniScript, 'kill')
  return `Killed Patroni and PostgreSQL of leader ${facts.leader} on ${leader.name} (kill -9). Its leader key expires after ttl 10 s; \`ctl runbook patroni-failover lab --candidate <member>\` promotes a replica, \`ctl lab up\` restarts it.`
}

const hasEtcdData = (host: LabHost) => existsSync(`${patroniLabPaths(host).etcdData}/member`)

/**
 * A member whose data directory is gone while others have theirs must not be started: with its
 * config's `initial-cluster-state: new` it would rejoin with an empty Raft log, as if it had never
 * voted (unsafe). Replacing it is the runbook's job.
 */
function refuseLostEtcdMember(hosts: LabHost[]): void {
  if (!hosts.some(hasEtcdData)) return
  const lost = hosts.filter((h) => !hasEtcdData(h) && etcdNotRunning(h))
  if (lost.length > 0)
    throw new CtlError(`etcd on ${lost.map((h) => h.name).join(', ')} lost its data directory while the other members keep theirs`, {
      code: 'lab.etcd-member-lost',
      hint: 'Replace it: ctl runbook etcd-member-replace lab (or start the lab afresh: ctl lab down && ctl lab up).',
    })
}

const etcdNotRunning = (host: LabHost) => runningDaemon(patroniLabPaths(host).etcdPid, 'etcd', host.netns) === undefined

/** Kills a member's etcd and removes its data directory, like a lost disk. */
async function etcdMemberLoss(ctx: LabContext, argument?: string): Promise<string> {
  const hosts = patroniHosts(ctx)
  const host = argument ? hosts.find((h) => h.name === argument) : hosts.at(-1)
  if (!host) throw new CtlError(`etcd-member-loss: no etcd member on ${argument}`, {code: 'lab.break', hint: `Hosts: ${hosts.map((h) => h.name).join(', ')}`})
  await controlOrFail(host, patroniLabPaths(host).etcdScript, 'kill')
  rmSync(patroniLabPaths(host).etcdData, {recursive: true, force: true})
  return `Killed etcd-${host.name} (kill -9) and removed its data directory ${patroniLabPaths(host).etcdData}. The other two keep quorum. Recover with: ctl runbook etcd-member-replace lab.`
}

export const patroniComponent: LabComponent = {
  name: 'patroni',
  packages: ['etcd-server', 'etcd-client', 'patroni', 'postgresql-15', 'pgbackrest', 'haproxy', 'pgbouncer', 'curl', 'util-linux', 'procps'],
  up,
  down,
  status,
  breaks: [
    {name: 'patroni-leader-loss', summary: "The Patroni leader's Patroni and PostgreSQL die (kill -9); `up` restarts them as a replica.", run: leaderLoss},
    {
      name: 'etcd-member-loss',
      summary: "An etcd member dies (kill -9) and loses its data directory (default the last host); `up` refuses to start it: etcd-member-replace's job.",
      argument: 'host',
      run: etcdMemberLoss,
    },
  ],
}
