import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {realVaultConfig, vaultServerArgv} from '../../packages/lab/src/components/vault.js'

/**
 * Throw-away Vault clusters on 127.0.0.1 for the contract tests: the lab's double (from dist/), or a
 * real `vault server` with Raft storage when a `vault` binary is on PATH, started the same way.
 */

const projectRoot = join(import.meta.dirname, '..', '..')

export function vaultBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v vault'], {encoding: 'utf8'})
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : undefined
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

export interface Reply {
  status: number
  body: any
}

/** One API call, any status returned (the contract is about statuses too). */
export async function api(addr: string, method: string, path: string, body?: unknown, token?: string): Promise<Reply> {
  const response = await fetch(`${addr}/v1/${path}`, {
    method,
    headers: {'content-type': 'application/json', ...(token ? {'x-vault-token': token} : {})},
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  return {status: response.status, body: text ? JSON.parse(text) : undefined}
}

/** Polls sys/health until it answers `status` (Vault needs a moment to elect and activate). */
export async function waitForHealth(addr: string, status: number, timeoutMs = 20_000): Promise<Reply> {
  const deadline = Date.now() + timeoutMs
  let last: Reply | undefined
  while (Date.now() < deadline) {
    last = await api(addr, 'GET', 'sys/health').catch(() => undefined)
    if (last?.status === status) return last
    await sleep(200)
  }
  throw new Error(`${addr} sys/health did not answer ${status} within ${timeoutMs} ms (last: ${last?.status})`)
}

export interface TestCluster {
  kind: 'double' | 'vault'
  addrs: string[]
  restart(index: number): Promise<void>
  stop(): Promise<void>
}

export async function startTestCluster(kind: 'double' | 'vault', size = 3): Promise<TestCluster> {
  const binary = kind === 'vault' ? vaultBinary() : undefined
  if (kind === 'vault' && !binary) throw new Error('no vault binary on PATH')
  const base = mkdtempSync(join(tmpdir(), 'ctl-vault-contract-'))
  const nodes = await Promise.all(
    Array.from({length: size}, async (_, i) => {
      const port = await freePort()
      const clusterPort = await freePort()
      const dir = join(base, `n${i + 1}`)
      mkdirSync(join(dir, 'data'), {recursive: true})
      const configFile = join(dir, 'vault.hcl')
      if (binary) writeFileSync(configFile, realVaultConfig({nodeId: `n${i + 1}`, listenHost: '127.0.0.1', port, clusterPort, dataDir: join(dir, 'data')}))
      const argv = vaultServerArgv({
        vaultBinary: binary,
        projectRoot,
        nodeId: `n${i + 1}`,
        listenHost: '127.0.0.1',
        port,
        clusterPort,
        stateDir: join(dir, 'data'),
        configFile,
      })
      return {argv, addr: `http://127.0.0.1:${port}`, process: undefined as ChildProcess | undefined}
    }),
  )
  const start = async (i: number) => {
    const node = nodes[i]!
    node.process = spawn(node.argv[0]!, node.argv.slice(1), {stdio: 'ignore'})
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      if (await api(node.addr, 'GET', 'sys/seal-status').catch(() => undefined)) return
      await sleep(100)
    }
    throw new Error(`${node.argv.join(' ')} did not answer at ${node.addr}`)
  }
  const stopOne = async (i: number) => {
    const child = nodes[i]!.process
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))])
  }
  await Promise.all(nodes.map((_, i) => start(i)))
  return {
    kind,
    addrs: nodes.map((n) => n.addr),
    async restart(i) {
      await stopOne(i)
      await start(i)
    },
    async stop() {
      await Promise.all(nodes.map((_, i) => stopOne(i)))
      rmSync(base, {recursive: true, force: true})
    },
  }
}
