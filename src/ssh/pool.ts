import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {NodeSSH} from 'node-ssh'
import {CtlError, ExitCode} from '../lib/errors.js'
import {redact} from '../lib/redact.js'
import {quote, renderCommand, shellCommand, type RemoteCommand} from '../lib/shell.js'
import {resolveInventoryRelative, type LoadedInventory} from '../inventory/load.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import {fingerprint, hostKeyAlgorithms, hostToken, keyTypeOf, readKnownHosts, verifyHostKey, type HostKeyVerdict} from './known-hosts.js'
import {lastLines} from '../lib/output.js'

export interface RemoteResult {
  node: string
  /** The command as run, secrets redacted. */
  command: string
  code: number
  stdout: string
  stderr: string
  durationMs: number
}

export interface RunOptions {
  /** Kill the command after this long (enforced remotely with `timeout`, and locally). */
  timeoutMs?: number
  stdin?: string
  /** Streaming output, line by line, secrets redacted. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  /** Throw a CtlError when the exit code is not 0 (default false: the caller reads `code`). */
  check?: boolean
  /** The step name used in errors and journals. */
  step?: string
  /** The output is data (e.g. a backup on its way to another host): journals keep its size, never its text. */
  outputIsData?: boolean
}

/** The one way ctl runs a command on a host: implemented over SSH by SshPool. */
export interface RemoteRunner {
  run(node: InventoryNode, command: RemoteCommand, options?: RunOptions): Promise<RemoteResult>
}

export type CommandListener = (result: RemoteResult, step?: string) => void

export interface ResolvedSsh {
  host: string
  port: number
  user: string
  keyPath?: string
  knownHostsPath: string
  connectTimeoutMs: number
  commandTimeoutMs: number
  sudo: boolean
}

/** Merges the inventory's SSH settings with the node's overrides. */
export function resolveSsh(loaded: LoadedInventory, node: InventoryNode): ResolvedSsh {
  const base = loaded.inventory.ssh
  const own = node.ssh ?? {}
  const key = own.key ?? base.key
  const knownHosts = own.knownHosts ?? base.knownHosts
  let keyPath = key ? resolveInventoryRelative(loaded, key) : undefined
  if (!keyPath) {
    keyPath = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f)).find((p) => existsSync(p))
  }
  return {
    host: node.address,
    port: own.port ?? base.port,
    user: own.user ?? base.user,
    keyPath,
    knownHostsPath: knownHosts ? resolveInventoryRelative(loaded, knownHosts) : join(homedir(), '.ssh', 'known_hosts'),
    connectTimeoutMs: own.connectTimeoutMs ?? base.connectTimeoutMs,
    commandTimeoutMs: own.commandTimeoutMs ?? base.commandTimeoutMs,
    sudo: own.sudo ?? base.sudo,
  }
}

/** The refusal of a host's key, naming both keys and what to do; `consequence` says what did not happen. */
export function hostKeyError(
  node: InventoryNode,
  ssh: ResolvedSsh,
  verdict: HostKeyVerdict,
  key: Buffer,
  env: string,
  consequence = 'nothing was run',
): CtlError {
  const token = hostToken(ssh.host, ssh.port)
  const where = `${node.name} (${token})`
  const presented = `${keyTypeOf(key)} ${fingerprint(key)}`
  if (verdict.status === 'changed') {
    const recorded = verdict.recorded.map((r) => `${r.keyType} ${r.fingerprint} (line ${r.line})`).join(', ')
    return new CtlError(
      `HOST KEY CHANGED for ${where}: it presented ${presented}, but ${ssh.knownHostsPath} records ${recorded}. This may be a man-in-the-middle attack; ${consequence}.`,
      {
        host: node.name,
        exitCode: ExitCode.cannotRun,
        code: 'ssh.host-key-changed',
        hint: `Verify ${presented} out of band (e.g. \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on the host's console). ctl never replaces a recorded key: if the host really changed, remove its old line(s) by hand (\`${shellCommand(['ssh-keygen', '-R', token, '-f', ssh.knownHostsPath])}\`), then run \`ctl ssh trust ${env}\`.`,
      },
    )
  }
  if (verdict.status === 'revoked') {
    return new CtlError(`Host key of ${where} is revoked in ${ssh.knownHostsPath}; ${consequence}.`, {
      host: node.name,
      exitCode: ExitCode.cannotRun,
      code: 'ssh.host-key-revoked',
    })
  }
  return new CtlError(`Unknown host key for ${where}: ${fingerprint(key)} is not in ${ssh.knownHostsPath}; ${consequence}.`, {
    host: node.name,
    exitCode: ExitCode.cannotRun,
    code: 'ssh.host-key-unknown',
    hint: `Check the fingerprint, then record it with \`ctl ssh trust ${env}\`.`,
  })
}

function connectError(node: InventoryNode, ssh: ResolvedSsh, error: unknown): CtlError {
  const err = error as NodeJS.ErrnoException & {level?: string}
  const where = `${node.name} (${ssh.user}@${hostToken(ssh.host, ssh.port)})`
  const message = err?.message ?? String(error)
  let hint = 'Check that the host is up and sshd listens, e.g. `ctl check preflight <env>`.'
  if (err?.level === 'client-authentication' || /authentication/i.test(message)) {
    hint = `Check the SSH user and key (${ssh.keyPath ?? 'no key found'}) in the inventory.`
  } else if (/timed out|ETIMEDOUT|EHOSTUNREACH/i.test(message)) {
    hint = `The host did not answer within ${ssh.connectTimeoutMs} ms: is it up and reachable from here?`
  } else if (/ECONNREFUSED/.test(message)) {
    hint = `Nothing listens on port ${ssh.port}: is sshd running?`
  }
  return new CtlError(`Cannot connect to ${where}: ${message}`, {host: node.name, exitCode: ExitCode.cannotRun, code: 'ssh.connect', hint, cause: error})
}

/**
 * One SSH connection per host, reused for the whole command; host keys verified against known_hosts.
 * Every remote command passes through `run`, which quotes nothing itself: commands arrive as argv
 * (quoted by lib/shell) or as scripts built from quoted parts.
 */
export class SshPool implements RemoteRunner {
  private readonly connections = new Map<string, Promise<NodeSSH>>()
  private readonly listeners: CommandListener[] = []
  /** known_hosts read once per file and command run, not once per host (100 hosts: 100 parses of 100 lines). */
  private readonly knownHosts = new Map<string, ReturnType<typeof readKnownHosts>>()

  constructor(readonly loaded: LoadedInventory) {}

  onCommand(listener: CommandListener): void {
    this.listeners.push(listener)
  }

  connect(node: InventoryNode): Promise<NodeSSH> {
    let pending = this.connections.get(node.name)
    if (!pending) {
      pending = this.open(node)
      this.connections.set(node.name, pending)
      pending.catch(() => this.connections.delete(node.name))
    }
    return pending
  }

  private async open(node: InventoryNode): Promise<NodeSSH> {
    const ssh = resolveSsh(this.loaded, node)
    let entries = this.knownHosts.get(ssh.knownHostsPath)
    if (!entries) this.knownHosts.set(ssh.knownHostsPath, (entries = readKnownHosts(ssh.knownHostsPath)))
    const token = hostToken(ssh.host, ssh.port)
    let rejection: CtlError | undefined
    // node-ssh (and ssh2 under it) load on the first connection, not at start-up (bench/startup.sh).
    const {NodeSSH} = await import('node-ssh')
    const client = new NodeSSH()
    try {
      await client.connect({
        host: ssh.host,
        port: ssh.port,
        username: ssh.user,
        privateKeyPath: ssh.keyPath,
        agent: ssh.keyPath ? undefined : process.env.SSH_AUTH_SOCK,
        readyTimeout: ssh.connectTimeoutMs,
        keepaliveInterval: 10000,
        algorithms: {serverHostKey: hostKeyAlgorithms(entries, token)},
        hostVerifier: (key: Buffer) => {
          const verdict = verifyHostKey(entries, token, key)
          if (verdict.status === 'known') return true
          rejection = hostKeyError(node, ssh, verdict, key, this.loaded.env)
          return false
        },
      })
    } catch (error) {
      client.dispose()
      throw rejection ?? connectError(node, ssh, error)
    }
    // Concurrent commands on one connection each add listeners to it; that is expected, not a leak.
    client.connection?.setMaxListeners(100)
    return client
  }

  async run(node: InventoryNode, command: RemoteCommand, options: RunOptions = {}): Promise<RemoteResult> {
    const ssh = resolveSsh(this.loaded, node)
    const client = await this.connect(node)
    const timeoutMs = options.timeoutMs ?? ssh.commandTimeoutMs
    const text = renderCommand(command)
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000))
    const wrapped = `${ssh.sudo ? 'sudo -n ' : ''}timeout -k 5 ${seconds} sh -c ${quote(text)}`
    const started = Date.now()
    const lineSplitter = (stream: 'stdout' | 'stderr') => {
      let buffer = ''
      return (chunk: Buffer) => {
        if (!options.onLine) return
        buffer += chunk.toString('utf8')
        const lines = buffer.split('\n')
        buffer = lines.pop() ?? ''
        for (const line of lines) options.onLine(redact(line), stream)
      }
    }
    let timer: NodeJS.Timeout | undefined
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CtlError(`Command timed out after ${timeoutMs} ms: ${redact(text)}`, {
              host: node.name,
              step: options.step,
              code: 'ssh.timeout',
              hint: 'The host may be overloaded or the command stuck; run it by hand with `ctl exec` to see.',
            }),
          ),
        timeoutMs + 10000,
      )
    })
    let response
    try {
      response = await Promise.race([
        client.execCommand(wrapped, {stdin: options.stdin, onStdout: lineSplitter('stdout'), onStderr: lineSplitter('stderr')}),
        guard,
      ])
    } catch (error) {
      if (error instanceof CtlError) throw error
      this.connections.delete(node.name)
      throw connectError(node, ssh, error)
    } finally {
      clearTimeout(timer)
    }
    const result: RemoteResult = {
      node: node.name,
      command: redact(text),
      code: response.code ?? (response.signal ? 128 : 255),
      stdout: response.stdout,
      stderr: response.stderr,
      durationMs: Date.now() - started,
    }
    for (const listener of this.listeners) listener({...result, stdout: redact(result.stdout), stderr: redact(result.stderr)}, options.step)
    if (result.code === 124) {
      throw new CtlError(`Command timed out after ${seconds} s: ${result.command}`, {
        host: node.name,
        step: options.step,
        code: 'ssh.timeout',
        hint: 'Raise the timeout or look at the host: `ctl exec` runs the command by hand.',
      })
    }
    if (options.check && result.code !== 0) throw commandFailed(result, options.step)
    return result
  }

  /** Writes `content` to `path` on the node with the given mode (default 0600), via stdin. */
  async writeFile(node: InventoryNode, path: string, content: string, mode = '600'): Promise<void> {
    await this.run(
      node,
      {script: `umask 077 && cat > ${quote(path)} && chmod ${quote(mode)} ${quote(path)}`},
      {stdin: content, check: true, step: `write ${path}`},
    )
  }

  /** Closes every connection. */
  dispose(): void {
    for (const pending of this.connections.values()) pending.then((c) => c.dispose()).catch(() => undefined)
    this.connections.clear()
  }
}

/** The error for a command that exited non-zero: host, command, code, and the end of its output. */
export function commandFailed(result: RemoteResult, step?: string): CtlError {
  const tail = redact(lastLines(result, 5))
  return new CtlError(`Command failed with exit code ${result.code}: ${result.command}${tail ? `\n${tail}` : ''}`, {
    host: result.node,
    step,
    code: 'remote.failed',
    hint: `Run it by hand to see more: ctl exec <env> --node ${result.node} -- ...`,
  })
}
