import {existsSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {CtlError, ExitCode} from 'ctl/lib/errors.js'
import {runLocal} from 'ctl/lib/local.js'
import {loadInventory} from 'ctl/inventory/load.js'
import {parseWsrepStatus, type WsrepStatus} from 'ctl/galera/facts.js'
import {WSREP_STATUS_SQL} from 'ctl/galera/commands.js'
import {runRunbook} from 'ctl/runbooks/engine.js'
import {acquireRunbookLock} from 'ctl/runbooks/lock.js'
import {galeraRecover} from 'ctl/runbooks/galera-recover.js'
import {SshPool} from 'ctl/ssh/pool.js'
import {inNetns} from '../daemon.js'
import {ensureLabPassword, writeIfChanged} from '../lab-files.js'
import {DEFAULT_LAB_INSTANCE, type LabComponent, type LabContext, type LabHost, type LabStatusRow} from '../types.js'
import {sqlString} from './backup-replica-files.js'
import {controlScript, GALERA_HOSTS, GALERA_PASSWORD_FILE, GALERA_USER, galeraPaths, myCnf} from './galera-files.js'

/**
 * The lab's MariaDB Galera cluster: one mariadbd per lab host (h1-h3) inside its namespace, started
 * by the control script lab.yml names, so the runbooks drive it exactly as a real platform.
 * `up` creates it (install h1's datadir, copy it to the others, bootstrap h1, join h2 and h3) or,
 * when it exists but is broken, repairs it with the galera-recover runbook over SSH.
 */

function galeraHosts(ctx: LabContext): LabHost[] {
  // Only the shared lab has a Galera cluster (inventories/lab.yml describes it).
  if ((ctx.instance ?? DEFAULT_LAB_INSTANCE).id !== DEFAULT_LAB_INSTANCE.id) return []
  return ctx.hosts.slice(0, GALERA_HOSTS)
}

/** The lab's SQL password, generated once into `.lab/` (referenced as file:../.lab/galera-password). */
function ensureGaleraPassword(projectRoot: string): string {
  return ensureLabPassword(join(projectRoot, GALERA_PASSWORD_FILE))
}

/**
 * Runs a lab mariadbd's control script inside the host's namespace (what SSH to the host would do):
 * a Galera member's by default, or the one under `paths` (the backup replica's).
 */
export async function labControl(host: LabHost, action: 'start' | 'stop' | 'kill' | 'status', extra: string[] = [], paths = galeraPaths(host)) {
  return runLocal(inNetns(host.netns, [paths.script, action, ...extra]), {timeoutMs: 60_000, check: false})
}

/** SQL as root over a lab mariadbd's socket (unix_socket auth); statements on stdin. */
export async function localSql(socket: string, sql: string, options: {check?: boolean; columnNames?: boolean} = {}) {
  const names = options.columnNames ? [] : ['--skip-column-names']
  return runLocal(['mariadb', `--socket=${socket}`, '--user=root', '--batch', ...names, '--connect-timeout=3'], {
    input: sql,
    timeoutMs: 30_000,
    check: options.check ?? true,
  })
}

export async function labWsrepStatus(host: LabHost): Promise<WsrepStatus | undefined> {
  const r = await localSql(galeraPaths(host).socket, WSREP_STATUS_SQL, {check: false})
  return r.code === 0 ? parseWsrepStatus(r.stdout) : undefined
}

async function waitSynced(host: LabHost, size: number, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: WsrepStatus | undefined
  while (Date.now() < deadline) {
    last = await labWsrepStatus(host)
    if (last?.clusterStatus === 'Primary' && last.localState === 'Synced' && last.clusterSize >= size) return
    if ((await labControl(host, 'status')).code !== 0) break
    await sleep(500)
  }
  throw new CtlError(
    `galera: ${host.name} did not reach Synced (last: ${last ? `${last.clusterStatus}/${last.localState}/${last.clusterSize}` : 'no answer'})`,
    {host: host.name, code: 'lab.galera', hint: `Read ${galeraPaths(host).errorLog}`},
  )
}

async function startMember(host: LabHost, extra: string[] = []): Promise<void> {
  const r = await labControl(host, 'start', extra)
  if (r.code !== 0)
    throw new CtlError(`galera: cannot start mariadbd on ${host.name}: ${(r.stderr || r.stdout).trim()}`, {
      host: host.name,
      code: 'lab.galera',
      hint: `Read ${galeraPaths(host).errorLog}`,
    })
}

/**
 * A new cluster: h1 installed and bootstrapped, the ctl user created, h1 stopped cleanly and its
 * datadir copied to the others (same uuid:seqno, so they join without a state transfer), then h1
 * bootstrapped again and the others started one at a time.
 */
async function createCluster(ctx: LabContext, hosts: LabHost[], password: string): Promise<void> {
  const [first, ...rest] = hosts as [LabHost, ...LabHost[]]
  const p1 = galeraPaths(first)
  ctx.log(`galera: installing the system tables on ${first.name}`)
  await runLocal(['mariadb-install-db', `--defaults-file=${p1.cnf}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=socket'], {
    timeoutMs: 120_000,
  })
  ctx.log(`galera: bootstrapping ${first.name}`)
  await startMember(first, ['--wsrep-new-cluster'])
  await waitSynced(first, 1)
  await localSql(
    p1.socket,
    `CREATE USER IF NOT EXISTS '${GALERA_USER}'@'localhost' IDENTIFIED BY ${sqlString(password)};\nGRANT ALL PRIVILEGES ON *.* TO '${GALERA_USER}'@'localhost' WITH GRANT OPTION;\n`,
  )
  const stopped = await labControl(first, 'stop')
  if (stopped.code !== 0) throw new CtlError(`galera: ${first.name} did not stop cleanly: ${stopped.stderr.trim()}`, {host: first.name, code: 'lab.galera'})
  for (const host of rest) {
    mkdirSync(galeraPaths(host).datadir, {recursive: true, mode: 0o700})
    await runLocal(['cp', '-a', `${p1.datadir}/.`, galeraPaths(host).datadir], {timeoutMs: 60_000})
  }
  await startMember(first, ['--wsrep-new-cluster'])
  await waitSynced(first, 1)
  let size = 1
  for (const host of rest) {
    ctx.log(`galera: ${host.name} joining`)
    await startMember(host)
    await waitSynced(host, ++size)
  }
}

/** Repairs an existing cluster the way an operator would: the galera-recover runbook over SSH. */
async function repairCluster(ctx: LabContext): Promise<void> {
  const loaded = loadInventory(join(ctx.projectRoot, 'inventories', 'lab.yml'))
  const pool = new SshPool(loaded)
  try {
    const result = await runRunbook(galeraRecover, {
      loaded,
      remote: pool,
      options: {allowUnreachable: false},
      yes: true,
      observer: {progress: (t) => ctx.log(`galera: ${t}`)},
      lock: (runId) => acquireRunbookLock(pool, loaded, galeraRecover.name, runId),
    })
    if (result.error) {
      throw new CtlError(`galera: galera-recover ${result.outcome}: ${result.error.message}`, {
        code: 'lab.galera',
        step: result.error.step,
        host: result.error.host,
        hint: `${result.error.hint ?? ''}\nJournal: ${result.journal}`.trim(),
      })
    }
    ctx.log(`galera: ${result.finishedEarly ?? `recovered (run ${result.runId})`}`)
  } finally {
    pool.dispose()
  }
}

export const galeraComponent: LabComponent = {
  name: 'galera',
  packages: ['mariadb-server', 'mariadb-client', 'galera-4', 'mariadb-backup', 'socat'],

  async up(ctx) {
    const hosts = galeraHosts(ctx)
    if (hosts.length === 0) return ctx.log('galera: only in the shared lab (inventories/lab.yml)')
    if (hosts.length < GALERA_HOSTS)
      throw new CtlError(`galera needs ${GALERA_HOSTS} lab hosts, the lab has ${hosts.length}`, {
        exitCode: ExitCode.cannotRun,
        hint: 'Run ctl lab up with --hosts 3 or more.',
      })
    const password = ensureGaleraPassword(ctx.projectRoot)
    for (const host of hosts) {
      const p = galeraPaths(host)
      for (const dir of [p.base, p.tmpdir, p.sstLogs, p.runDir, p.backups, p.binlogs]) mkdirSync(dir, {recursive: true, mode: 0o700})
      writeIfChanged(p.cnf, myCnf(host, hosts), 0o644)
      writeIfChanged(p.script, controlScript(host), 0o755)
    }
    const fresh = hosts.filter((h) => !existsSync(join(galeraPaths(h).datadir, 'mysql')))
    if (fresh.length === hosts.length) return createCluster(ctx, hosts, password)
    for (const host of fresh) {
      // A member whose datadir is gone joins by full state transfer (mariabackup fills an empty datadir).
      ctx.log(`galera: ${host.name} has no datadir: it joins by state transfer`)
      mkdirSync(galeraPaths(host).datadir, {recursive: true, mode: 0o700})
    }
    const statuses = await Promise.all(hosts.map((h) => labWsrepStatus(h)))
    if (statuses.every((s) => s?.clusterStatus === 'Primary' && s.localState === 'Synced' && s.clusterSize === hosts.length))
      return ctx.log('galera: no changes (3 Synced, Primary)')
    await repairCluster(ctx)
  },

  async down(ctx) {
    for (const host of galeraHosts(ctx)) {
      if (!existsSync(galeraPaths(host).script)) continue
      ctx.log(`galera: stopping mariadbd on ${host.name}`)
      if ((await labControl(host, 'stop')).code !== 0) await labControl(host, 'kill')
    }
  },

  async status(ctx) {
    return Promise.all(
      galeraHosts(ctx).map(async (host): Promise<LabStatusRow> => {
        const running = existsSync(galeraPaths(host).script) && (await labControl(host, 'status')).code === 0
        if (!running) return {component: 'galera', host: host.name, ok: false, detail: 'mariadbd not running'}
        const s = await labWsrepStatus(host)
        if (!s) return {component: 'galera', host: host.name, ok: false, detail: 'mariadbd runs but does not answer SQL'}
        return {
          component: 'galera',
          host: host.name,
          ok: s.clusterStatus === 'Primary' && s.localState === 'Synced',
          detail: `${s.clusterStatus}, ${s.localState}, size ${s.clusterSize}, seqno ${s.lastCommitted}`,
        }
      }),
    )
  },

  breaks: [
    {
      name: 'galera-crash',
      summary: 'kill -9 every mariadbd at once (a power cut): no Primary component is left',
      async run(ctx) {
        const hosts = galeraHosts(ctx)
        const killed = await Promise.all(hosts.map(async (h) => ((await labControl(h, 'kill')).code === 0 ? h.name : `${h.name} (kill failed)`)))
        return `galera: killed mariadbd with SIGKILL on ${killed.join(', ')}. Recover with: ctl runbook galera-recover lab (or ctl lab up).`
      },
    },
    {
      name: 'galera-node-loss',
      summary: 'kill -9 the mariadbd of one member: the other two stay Primary',
      argument: 'member host, e.g. h3',
      async run(ctx, argument) {
        const hosts = galeraHosts(ctx)
        const host = argument ? hosts.find((h) => h.name === argument) : hosts.at(-1)
        if (!host)
          throw new CtlError(`galera-node-loss: "${argument}" is not a Galera member`, {
            exitCode: ExitCode.cannotRun,
            hint: `Members: ${hosts.map((h) => h.name).join(', ')}`,
          })
        const r = await labControl(host, 'kill')
        if (r.code !== 0) throw new CtlError(`galera-node-loss: could not kill mariadbd on ${host.name}: ${r.stderr.trim()}`, {host: host.name})
        // The survivors notice the loss only after the group's suspect timeout: the scenario's state
        // ("two stay Primary") is reached when one of them reports a Primary component of the rest.
        const survivor = hosts.find((h) => h !== host)
        const deadline = Date.now() + 60_000
        while (survivor && Date.now() < deadline) {
          const status = await labWsrepStatus(survivor)
          if (status?.clusterStatus === 'Primary' && status.clusterSize === hosts.length - 1) break
          await sleep(500)
        }
        return `galera: killed mariadbd on ${host.name}; the others stay Primary. Recover with: ctl runbook galera-recover lab (no bootstrap happens).`
      },
    },
  ],
}
