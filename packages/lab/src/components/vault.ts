import {existsSync, mkdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runLocal} from 'ctl/lib/local.js'
import {forEachLimited} from 'ctl/lib/limit.js'
import {inNetns, runningDaemon, startDetached, stopProcess, waitFor} from '../daemon.js'
import {labFilesDir} from '../instance.js'
import {isDefaultLab, type LabComponent, type LabContext, type LabHost, type LabStatusRow} from '../types.js'

/**
 * Vault, one server per lab host (the first three, as inventories/lab.yml's vault.members), on the
 * host's address port 8200 over http. A real `vault server` with Raft storage when a `vault` binary
 * is on PATH; otherwise the lab's Vault API double (packages/lab/src/vault-double). State lives under
 * <host state dir>/vault, so a restart seals the node again but keeps its init and Raft membership.
 */

const VAULT_LAB_SIZE = 3
const VAULT_PORT = 8200
const VAULT_CLUSTER_PORT = 8201
const READY_TIMEOUT_MS = 15_000

interface VaultLabPaths {
  dir: string
  pidFile: string
  logFile: string
  config: string
}

function vaultLabPaths(host: LabHost): VaultLabPaths {
  const dir = `${host.stateDir}/vault`
  return {dir, pidFile: `${host.runDir}/vault.pid`, logFile: `${dir}/server.log`, config: `${dir}/vault.hcl`}
}

function vaultHosts(ctx: Pick<LabContext, 'hosts'>): LabHost[] {
  return ctx.hosts.slice(0, VAULT_LAB_SIZE)
}

function vaultApiAddr(host: Pick<LabHost, 'address'>): string {
  return `http://${host.address}:${VAULT_PORT}`
}

/** The `vault` binary on PATH, when there is one (then the lab runs the real server). */
async function findVaultBinary(): Promise<string | undefined> {
  const found = await runLocal(['sh', '-c', 'command -v vault'], {check: false, timeoutMs: 5000})
  return found.code === 0 && found.stdout.trim() ? found.stdout.trim() : undefined
}

/** A real Vault server's configuration: Raft storage, plain http on the given address (lab only). */
export function realVaultConfig(options: {nodeId: string; listenHost: string; port: number; clusterPort: number; dataDir: string}): string {
  const host = options.listenHost
  return [
    `storage "raft" {`,
    `  path    = "${options.dataDir}"`,
    `  node_id = "${options.nodeId}"`,
    `}`,
    `listener "tcp" {`,
    `  address         = "${host}:${options.port}"`,
    `  cluster_address = "${host}:${options.clusterPort}"`,
    `  tls_disable     = true`,
    `}`,
    `api_addr      = "http://${host}:${options.port}"`,
    `cluster_addr  = "https://${host}:${options.clusterPort}"`,
    `disable_mlock = true`,
    `ui            = false`,
    '',
  ].join('\n')
}

/** The argv of one node's server: the real one, or the double run by Node 22 from dist/. */
export function vaultServerArgv(options: {
  vaultBinary?: string
  projectRoot: string
  nodeId: string
  listenHost: string
  port: number
  clusterPort: number
  stateDir: string
  configFile: string
}): string[] {
  if (options.vaultBinary) return [options.vaultBinary, 'server', `-config=${options.configFile}`]
  const localNode = join(options.projectRoot, 'node_modules/.bin/node')
  return [
    existsSync(localNode) ? localNode : process.execPath,
    join(options.projectRoot, 'packages/lab/dist/vault-double/main.js'),
    '--node-id',
    options.nodeId,
    '--listen',
    `${options.listenHost}:${options.port}`,
    '--cluster-addr',
    `${options.listenHost}:${options.clusterPort}`,
    '--state-dir',
    options.stateDir,
  ]
}

/** Any HTTP answer from sys/health (even 501/503) means the server is up. */
async function vaultAnswers(apiAddr: string): Promise<boolean> {
  try {
    await fetch(`${apiAddr}/v1/sys/health`, {signal: AbortSignal.timeout(1000)})
    return true
  } catch {
    return false
  }
}

/**
 * Holds `<run dir>/vault.lock` (made with mkdir, atomic) while `work` runs, so two `lab up` runs at
 * the same time do not both start a server on the same address. A lock older than a minute is stale.
 */
async function withStartLock<T>(host: LabHost, work: () => Promise<T>): Promise<T> {
  const lock = `${host.runDir}/vault.lock`
  mkdirSync(host.runDir, {recursive: true})
  const taken = await waitFor(
    () => {
      try {
        mkdirSync(lock)
        return true
      } catch {
        const held = statSync(lock, {throwIfNoEntry: false})
        if (held && Date.now() - held.mtimeMs > 60_000) rmSync(lock, {recursive: true, force: true})
        return false
      }
    },
    READY_TIMEOUT_MS * 2,
    100,
  )
  if (!taken) throw new Error(`${lock} is held by another start; remove it if no \`ctl lab up\` is running`)
  try {
    return await work()
  } finally {
    rmSync(lock, {recursive: true, force: true})
  }
}

function startVaultNode(ctx: LabContext, host: LabHost, vaultBinary?: string): Promise<'running' | 'started'> {
  return withStartLock(host, () => startUnlocked(ctx, host, vaultBinary))
}

async function startUnlocked(ctx: LabContext, host: LabHost, vaultBinary?: string): Promise<'running' | 'started'> {
  const paths = vaultLabPaths(host)
  if (runningDaemon(paths.pidFile, paths.dir, host.netns) !== undefined) return 'running'
  mkdirSync(paths.dir, {recursive: true, mode: 0o700})
  const dataDir = `${paths.dir}/data`
  mkdirSync(dataDir, {recursive: true, mode: 0o700})
  if (vaultBinary)
    writeFileSync(paths.config, realVaultConfig({nodeId: host.name, listenHost: host.address, port: VAULT_PORT, clusterPort: VAULT_CLUSTER_PORT, dataDir}))
  const argv = vaultServerArgv({
    vaultBinary,
    projectRoot: ctx.projectRoot,
    nodeId: host.name,
    listenHost: host.address,
    port: VAULT_PORT,
    clusterPort: VAULT_CLUSTER_PORT,
    stateDir: dataDir,
    configFile: paths.config,
  })
  // nsenter execs the server, so the pid is the server's own.
  const pid = startDetached(inNetns(host.netns, argv), paths.logFile)
  writeFileSync(paths.pidFile, `${pid}\n`)
  if (!(await waitFor(() => vaultAnswers(vaultApiAddr(host)), READY_TIMEOUT_MS, 200))) {
    throw new Error(`Vault on ${host.name} did not answer at ${vaultApiAddr(host)} within ${READY_TIMEOUT_MS / 1000} s; see ${paths.logFile}`)
  }
  return 'started'
}

async function stopVaultNode(host: LabHost): Promise<void> {
  const paths = vaultLabPaths(host)
  const pid = runningDaemon(paths.pidFile, paths.dir, host.netns)
  if (pid !== undefined) await stopProcess(pid, 10_000)
  rmSync(paths.pidFile, {force: true})
}

/** Restarts every lab Vault node: each comes back sealed, initialized and Raft member as before. */
async function restartVaultNodes(ctx: LabContext): Promise<void> {
  const binary = await findVaultBinary()
  await forEachLimited(vaultHosts(ctx), 3, async (host) => {
    await stopVaultNode(host)
    await startVaultNode(ctx, host, binary)
  })
}

/** Where inventories/lab.yml's vault.keysFile points: the keys of the lab cluster. */
export function labVaultKeysFile(projectRoot: string): string {
  return `${labFilesDir(projectRoot)}/vault-keys.json`
}

/**
 * Stops the nodes and deletes their state, and, in the default lab, the lab's keys file with it
 * (those keys open nothing any more): the next start is an uninitialized cluster.
 */
export async function wipeVaultNodes(ctx: LabContext): Promise<void> {
  await forEachLimited(vaultHosts(ctx), 3, async (host) => {
    await stopVaultNode(host)
    rmSync(vaultLabPaths(host).dir, {recursive: true, force: true})
  })
  if (isDefaultLab(ctx)) rmSync(labVaultKeysFile(ctx.projectRoot), {force: true})
}

async function hostStatus(host: LabHost): Promise<LabStatusRow> {
  const paths = vaultLabPaths(host)
  const pid = runningDaemon(paths.pidFile, paths.dir, host.netns)
  if (pid === undefined) return {component: 'vault', host: host.name, ok: false, detail: 'not running'}
  try {
    const response = await fetch(`${vaultApiAddr(host)}/v1/sys/seal-status`, {signal: AbortSignal.timeout(2000)})
    const seal = (await response.json()) as {initialized: boolean; sealed: boolean; progress: number; t: number; version: string}
    const state = !seal.initialized ? 'not initialized' : seal.sealed ? `sealed (${seal.progress}/${seal.t})` : 'unsealed'
    return {component: 'vault', host: host.name, ok: true, detail: `pid ${pid}, ${vaultApiAddr(host)}, ${state}, ${seal.version}`}
  } catch (error) {
    return {component: 'vault', host: host.name, ok: false, detail: `pid ${pid} runs but ${vaultApiAddr(host)} does not answer: ${(error as Error).message}`}
  }
}

export const vaultComponent: LabComponent = {
  name: 'vault',
  // gpg: the double encrypts key shares for PGP keys with it, as Vault does with pgp_keys.
  packages: ['gpg'],

  async up(ctx) {
    if (!isDefaultLab(ctx)) return ctx.log('vault: runs in the default lab only (inventories/lab.yml names its members)')
    const binary = await findVaultBinary()
    if (!binary && !existsSync(join(ctx.projectRoot, 'packages/lab/dist/vault-double/main.js'))) {
      throw new Error('packages/lab/dist/vault-double/main.js is missing: run `npm run build` first')
    }
    ctx.log(binary ? `vault: real server ${binary}` : 'vault: Vault API double (no vault binary on PATH)')
    await forEachLimited(vaultHosts(ctx), 3, async (host) => {
      const outcome = await startVaultNode(ctx, host, binary)
      if (outcome === 'started') ctx.log(`${host.name}: vault started on ${vaultApiAddr(host)}`)
    })
  },

  async down(ctx) {
    await wipeVaultNodes(ctx)
  },

  async status(ctx) {
    if (!isDefaultLab(ctx)) return []
    return Promise.all(vaultHosts(ctx).map((h) => hostStatus(h)))
  },

  breaks: [
    {
      name: 'vault-sealed',
      summary: 'Restart every Vault node: they come back sealed (unseal with `ctl vault unseal lab`).',
      async run(ctx) {
        await restartVaultNodes(ctx)
        return `Restarted Vault on ${vaultHosts(ctx)
          .map((h) => h.name)
          .join(', ')}: every node is sealed now. \`ctl vault unseal lab\` unseals them.`
      },
    },
  ],
}
