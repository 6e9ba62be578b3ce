import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer as createTcpServer, type AddressInfo, type Server as TcpServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import ssh2 from 'ssh2'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CtlError, ExitCode} from '../../../src/lib/errors.js'
import {loadInventory} from '../../../src/inventory/load.js'
import {SshPool} from '../../../src/ssh/pool.js'

// The SSH pool's timeouts against a real SSH server without root: ssh2's own server, in this process,
// on 127.0.0.1. Each exec answers as the test's `behaviour` says; the commands it saw are recorded.

type Behaviour = 'hang' | 'exit-124' | 'ok'

const dir = mkdtempSync(join(tmpdir(), 'ctl-pool-'))
const seen: string[] = []
let behaviour: Behaviour = 'ok'
let sshServer: ssh2.Server
let silentServer: TcpServer
let sshPort = 0
let silentPort = 0

function inventoryFor(port: number, name: string): string {
  const file = join(dir, `${name}.yml`)
  writeFileSync(
    file,
    [
      `name: ${name}`,
      `ssh: {user: root, port: ${port}, key: ./id_ed25519, knownHosts: ./known_hosts, connectTimeoutMs: 800, commandTimeoutMs: 1000}`,
      'nodes:',
      '  - {name: n1, address: 127.0.0.1, role: none}',
      '',
    ].join('\n'),
  )
  return file
}

beforeAll(async () => {
  // The client key as operators make theirs (node-ssh may parse it with its own copy of ssh2).
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')])
  // The host key from ssh-keygen too: ssh2's own generateKeyPairSync('ed25519') makes a key it cannot
  // parse back about once in 256 runs (mscdex/ssh2#1513), which failed a CI run.
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')])
  const hostKey = {private: readFileSync(join(dir, 'host_ed25519')), public: readFileSync(join(dir, 'host_ed25519.pub'), 'utf8')}
  sshServer = new ssh2.Server({hostKeys: [hostKey.private]}, (client) => {
    client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])))
    client.on('session', (accept) => {
      accept().on('exec', (acceptExec, _reject, info) => {
        seen.push(info.command)
        const stream = acceptExec()
        if (behaviour === 'hang') return
        stream.exit(behaviour === 'exit-124' ? 124 : 0)
        stream.end()
      })
    })
    client.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => sshServer.listen(0, '127.0.0.1', resolve))
  sshPort = (sshServer.address() as AddressInfo).port
  // Accepts TCP connections and never says a word: a host whose sshd hangs before the handshake.
  silentServer = createTcpServer(() => undefined)
  await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve))
  silentPort = (silentServer.address() as AddressInfo).port
  const publicKey = hostKey.public.trim().split(' ').slice(0, 2).join(' ')
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${sshPort} ${publicKey}\n[127.0.0.1]:${silentPort} ${publicKey}\n`)
})

afterAll(() => {
  sshServer?.close()
  silentServer?.close()
  rmSync(dir, {recursive: true, force: true})
})

async function failure(promise: Promise<unknown>): Promise<CtlError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(CtlError)
  return error as CtlError
}

describe('SshPool timeouts (in-process SSH server)', () => {
  it('wraps every command in a remote `timeout` of the command timeout, rounded up to seconds', async () => {
    behaviour = 'ok'
    const loaded = loadInventory(inventoryFor(sshPort, 'wrap'))
    const pool = new SshPool(loaded)
    try {
      const result = await pool.run(loaded.inventory.nodes[0]!, ['echo', 'a b'], {timeoutMs: 1500})
      expect(result.code).toBe(0)
      expect(seen.at(-1)).toBe(String.raw`timeout -k 5 2 sh -c 'echo '\''a b'\'''`)
    } finally {
      pool.dispose()
    }
  })

  it('reports exit 124 (the remote timeout fired) as a timeout naming the host and step', async () => {
    behaviour = 'exit-124'
    const loaded = loadInventory(inventoryFor(sshPort, 'remote'))
    const pool = new SshPool(loaded)
    try {
      const error = await failure(pool.run(loaded.inventory.nodes[0]!, ['sleep', '60'], {step: 'wait for it'}))
      expect(error.code).toBe('ssh.timeout')
      expect(error.host).toBe('n1')
      expect(error.step).toBe('wait for it')
      expect(error.message).toContain('timed out after 1 s')
    } finally {
      pool.dispose()
    }
  })

  it('gives up locally when the host never answers, even if its `timeout` does not work', {timeout: 30_000}, async () => {
    behaviour = 'hang'
    const loaded = loadInventory(inventoryFor(sshPort, 'local'))
    const pool = new SshPool(loaded)
    const started = Date.now()
    try {
      const error = await failure(pool.run(loaded.inventory.nodes[0]!, ['sleep', '60'], {timeoutMs: 1000, step: 'stuck'}))
      expect(error.code).toBe('ssh.timeout')
      expect(error.host).toBe('n1')
      // The local guard allows the remote `timeout -k 5` its grace before deciding.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
      expect(Date.now() - started).toBeLessThan(20_000)
    } finally {
      pool.dispose()
    }
  })

  it('refuses a host that accepts TCP but never shakes hands, within the connect timeout, exit 2 with a hint', async () => {
    const loaded = loadInventory(inventoryFor(silentPort, 'silent'))
    const pool = new SshPool(loaded)
    const started = Date.now()
    try {
      const error = await failure(pool.run(loaded.inventory.nodes[0]!, ['true']))
      expect(Date.now() - started).toBeLessThan(5000)
      expect(error.code).toBe('ssh.connect')
      expect(error.exitCode).toBe(ExitCode.cannotRun)
      expect(error.host).toBe('n1')
      expect(error.hint).toContain('did not answer within 800 ms')
    } finally {
      pool.dispose()
    }
  })
})
