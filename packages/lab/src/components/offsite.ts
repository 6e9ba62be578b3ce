import {X509Certificate} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {request} from 'node:https'
import {join} from 'node:path'
import {CtlError} from 'ctl/lib/errors.js'
import {runLocal} from 'ctl/lib/local.js'
import {isAlive, processCommandLine, runningDaemon, startDetached, stopProcess, waitFor} from '../daemon.js'
import {labFilesDir} from '../instance.js'
import {ensureLabPassword, writeIfChanged} from '../lab-files.js'
import {DEFAULT_LAB_INSTANCE, type LabBreakScenario, type LabComponent, type LabContext, type LabInstance, type LabStatusRow} from '../types.js'
import {labServerCertCommand, registryPaths} from './registry-files.js'

/**
 * Offsite backup storage for the lab: an S3 API (the seeds' MinIO) on <bridge address>:9000 over TLS
 * from the lab CA, served by s3rver (packages/lab/src/s3-double). Its objects live outside the lab's
 * state directory (in `.lab/`, with the keys), so `lab down --keep-offsite` and a fresh `lab up` find them
 * again, as a real offsite store would after the cluster's hosts are lost (plain `lab down` removes them).
 */

const S3_PORT = 9000
const OFFSITE_BUCKET = 'ctl-backups'
const READY_TIMEOUT_MS = 15_000

export function offsitePaths(projectRoot: string, instance: LabInstance = DEFAULT_LAB_INSTANCE) {
  const dir = `${instance.stateDir}/offsite`
  return {
    dir,
    host: instance.bridgeAddress,
    address: `${instance.bridgeAddress}:${S3_PORT}`,
    /**
     * The objects: never in the lab's state directory, but beside the keys that encrypt them
     * (`.lab/`, kept by `lab down`), so another checkout's lab never meets backups it cannot read.
     */
    storage: `${labFilesDir(projectRoot)}/offsite-s3${instance.id === 0 ? '' : `-${instance.inventoryName}`}`,
    /** The lab CA, where hosts (which share this filesystem) and ctl's inventory read it. */
    caCert: `${dir}/ca.crt`,
    serverKey: `${dir}/server.key`,
    serverCert: `${dir}/server.crt`,
    log: `${dir}/s3.log`,
    pidFile: `${instance.runDir}/offsite-s3.pid`,
  }
}
type OffsitePaths = ReturnType<typeof offsitePaths>

/** `.lab/offsite-*`: the S3 key pair and the key backups are encrypted with before they leave (kept across `lab down`, like the other lab secrets). */
function offsiteLabFiles(projectRoot: string) {
  const dir = labFilesDir(projectRoot)
  return {accessKey: `${dir}/offsite-access-key`, secretKey: `${dir}/offsite-secret-key`, encryptionKey: `${dir}/offsite-encryption-key`}
}

function serverPid(p: OffsitePaths): number | undefined {
  // The certificate path is in the command line: it names this lab's server and no other.
  return runningDaemon(p.pidFile, p.serverCert, undefined)
}

/** Any HTTPS answer, the certificate verified by the lab CA, means the server is up. */
function answers(p: OffsitePaths): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({host: p.host, port: S3_PORT, path: '/', method: 'HEAD', ca: readFileSync(p.caCert), timeout: 1000}, (res) => {
      res.resume()
      resolve(true)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

/**
 * The server certificate names the address as an IP and as a DNS name: pgBackRest matches the
 * host only against DNS-type names. Made again when the lab CA changed (a fresh lab).
 */
async function ensureServerCertificate(p: OffsitePaths, ca: {caCert: string; caKey: string}): Promise<boolean> {
  // Readable by the hosts' PostgreSQL user (it reads ca.crt); the key is 0600 (openssl writes it so).
  mkdirSync(p.dir, {recursive: true, mode: 0o755})
  chmodSync(p.dir, 0o755)
  const caCert = new X509Certificate(readFileSync(ca.caCert))
  const current = existsSync(p.serverCert) && existsSync(p.serverKey) ? new X509Certificate(readFileSync(p.serverCert)) : undefined
  if (current?.verify(caCert.publicKey) && current.checkIP(p.host) === p.host && Date.parse(current.validTo) > Date.now() + 30 * 86400_000) return false
  await runLocal(labServerCertCommand(ca, {key: p.serverKey, cert: p.serverCert}, p.host, [`IP:${p.host}`, `DNS:${p.host}`]), {timeoutMs: 30_000})
  chmodSync(p.serverKey, 0o600)
  return true
}

async function stopServer(p: OffsitePaths): Promise<number | undefined> {
  const pid = serverPid(p)
  if (pid !== undefined) await stopProcess(pid, 10_000)
  rmSync(p.pidFile, {force: true})
  return pid
}

function serverArgv(ctx: LabContext, p: OffsitePaths): string[] {
  const files = offsiteLabFiles(ctx.projectRoot)
  const localNode = join(ctx.projectRoot, 'node_modules/.bin/node')
  return [
    existsSync(localNode) ? localNode : process.execPath,
    // s3rver makes ListObjects continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider:
    // without it every listing of more than 1000 keys fails (pgBackRest's expire lists that many).
    '--openssl-legacy-provider',
    join(ctx.projectRoot, 'packages/lab/dist/s3-double/main.js'),
    ...['--listen', p.address, '--directory', p.storage, '--cert', p.serverCert, '--key', p.serverKey],
    ...['--access-key-file', files.accessKey, '--secret-key-file', files.secretKey, '--bucket', OFFSITE_BUCKET],
  ]
}

async function startServer(ctx: LabContext, p: OffsitePaths): Promise<void> {
  mkdirSync(p.storage, {recursive: true, mode: 0o700})
  const pid = startDetached(serverArgv(ctx, p), p.log)
  writeFileSync(p.pidFile, `${pid}\n`)
  await waitFor(async () => !isAlive(pid) || (await answers(p)), READY_TIMEOUT_MS, 200)
  if (!(await answers(p)))
    throw new CtlError(`offsite: https://${p.address}/ does not answer${isAlive(pid) ? ` within ${READY_TIMEOUT_MS / 1000} s` : ' (the S3 double exited)'}`, {
      step: 'offsite',
      hint: `See the end of ${p.log}; is port ${S3_PORT} taken on ${p.host}?`,
    })
  ctx.log(`offsite: S3 double on https://${p.address} (pid ${pid}), objects in ${p.storage}`)
}

const offsiteDown: LabBreakScenario = {
  name: 'offsite-down',
  summary: 'Stop the lab S3 storage: offsite backups and WAL pushes to it fail until `ctl lab up`',
  async run(ctx) {
    const p = offsitePaths(ctx.projectRoot, ctx.instance)
    const pid = await stopServer(p)
    return pid === undefined ? `S3 double on ${p.address} was not running` : `S3 double on ${p.address} stopped (pid ${pid}); \`ctl lab up\` starts it again`
  },
}

export const offsiteComponent: LabComponent = {
  name: 'offsite',
  packages: ['openssl'],

  async up(ctx) {
    const p = offsitePaths(ctx.projectRoot, ctx.instance)
    const files = offsiteLabFiles(ctx.projectRoot)
    for (const file of Object.values(files)) ensureLabPassword(file)
    // The registry component made the lab CA; its copy here is what hosts and inventories name.
    const registry = registryPaths(ctx.instance)
    const newCert = await ensureServerCertificate(p, registry)
    writeIfChanged(p.caCert, readFileSync(registry.caCert, 'utf8'), 0o644)
    const running = serverPid(p)
    const changed = newCert
      ? 'new certificate'
      : running !== undefined && processCommandLine(running) !== serverArgv(ctx, p).join(' ')
        ? 'new arguments'
        : undefined
    if (running !== undefined && changed) {
      ctx.log(`offsite: restarting (${changed})`)
      await stopServer(p)
    }
    if (serverPid(p) === undefined || !(await answers(p))) {
      await stopServer(p)
      await startServer(ctx, p)
    }
  },

  async down(ctx) {
    const p = offsitePaths(ctx.projectRoot, ctx.instance)
    const pid = await stopServer(p)
    if (pid !== undefined) ctx.log(`offsite: stopped pid ${pid}; objects kept in ${p.storage}`)
    rmSync(p.dir, {recursive: true, force: true})
  },

  async status(ctx): Promise<LabStatusRow[]> {
    const p = offsitePaths(ctx.projectRoot, ctx.instance)
    const pid = serverPid(p)
    if (pid === undefined) return [{component: 'offsite', ok: false, detail: `not running (see ${p.log})`}]
    if (!(await answers(p))) return [{component: 'offsite', ok: false, detail: `pid ${pid} runs but https://${p.address}/ does not answer`}]
    return [{component: 'offsite', ok: true, detail: `pid ${pid}, S3 on https://${p.address}, bucket ${OFFSITE_BUCKET}, objects in ${p.storage}`}]
  },

  breaks: [offsiteDown],
}
