import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {connect, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export type HostKeyKind = 'ed25519' | 'ecdsa'

/** A real OpenSSH server on loopback with its own host keys, client key pair and known_hosts. */
export interface LoopbackSshd {
  dir: string
  port: number
  clientKey: string
  knownHosts: string
  /** The `[127.0.0.1]:port <type> <key>` line of the first host key it offers. */
  knownHostsLine: string
  /** The host's keys of every kind, offered or not: known_hosts line and public key file. */
  hostKeys: Record<HostKeyKind, {knownHostsLine: string; publicKeyFile: string}>
  stop(): void
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/**
 * `offer` lists the host key kinds sshd serves (default ed25519); the host has a key of each kind,
 * so a test can record one it does not offer.
 */
export async function startLoopbackSshd(options: {offer?: HostKeyKind[]} = {}): Promise<LoopbackSshd> {
  const offer = options.offer ?? ['ed25519']
  const dir = mkdtempSync(join(tmpdir(), 'ctl-sshd-'))
  const port = await freePort()
  const keygen = (file: string, kind: HostKeyKind = 'ed25519') => execFileSync('ssh-keygen', ['-q', '-t', kind, '-N', '', '-f', file])
  const hostKeyFile = (kind: HostKeyKind) => join(dir, `host_${kind}_key`)
  keygen(hostKeyFile('ed25519'), 'ed25519')
  keygen(hostKeyFile('ecdsa'), 'ecdsa')
  keygen(join(dir, 'client_key'))
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), {mode: 0o600})
  mkdirSync('/run/sshd', {recursive: true, mode: 0o755})
  const config = [
    `ListenAddress 127.0.0.1:${port}`,
    ...offer.map((kind) => `HostKey ${hostKeyFile(kind)}`),
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'StrictModes no',
  ].join('\n')
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`)
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {stdio: ['ignore', 'ignore', 'pipe']})
  let log = ''
  child.stderr?.on('data', (d) => (log += String(d)))
  // Wait until it accepts connections.
  const deadline = Date.now() + 10_000
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => (socket.destroy(), resolve(true)))
      socket.once('error', () => resolve(false))
    })
    if (up) break
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`sshd did not start: ${log}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  const hostKey = (kind: HostKeyKind) => {
    const publicKeyFile = `${hostKeyFile(kind)}.pub`
    const [type, key] = readFileSync(publicKeyFile, 'utf8').trim().split(/\s+/)
    return {knownHostsLine: `[127.0.0.1]:${port} ${type} ${key}`, publicKeyFile}
  }
  const hostKeys = {ed25519: hostKey('ed25519'), ecdsa: hostKey('ecdsa')}
  const knownHostsLine = hostKeys[offer[0]!].knownHostsLine
  const knownHosts = join(dir, 'known_hosts')
  writeFileSync(knownHosts, `${knownHostsLine}\n`)
  return {dir, port, clientKey: join(dir, 'client_key'), knownHosts, knownHostsLine, hostKeys, stop: () => child.kill('SIGTERM')}
}
