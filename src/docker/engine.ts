import {createRequire} from 'node:module'
import type {Duplex} from 'node:stream'
import type Docker from 'dockerode'
import {CtlError, ExitCode} from '../lib/errors.js'
import {quote, shellCommand} from '../lib/shell.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import {resolveSsh, type RemoteResult, type RunOptions, type SshPool} from '../ssh/pool.js'
import {StreamAgent} from './transport.js'

const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock'

/** The engine socket of a node (inventory `docker.socket`). */
export function dockerSocket(node: InventoryNode): string {
  return node.docker?.socket ?? DEFAULT_DOCKER_SOCKET
}

/** argv of a docker CLI call against the node's engine: `docker -H unix://<socket> ...args`. */
export function dockerCli(node: InventoryNode, args: readonly string[]): string[] {
  return ['docker', '-H', `unix://${dockerSocket(node)}`, ...args]
}

/** Runs the docker CLI on the node over SSH (for jobs the CLI does best: `stack deploy`). */
export function runDockerCli(pool: SshPool, node: InventoryNode, args: readonly string[], options: RunOptions = {}): Promise<RemoteResult> {
  return pool.run(node, dockerCli(node, args), options)
}

/** Gives an SSH channel the socket methods Node's HTTP client calls on a connection. */
function asHttpSocket(stream: Duplex): Duplex {
  const socketLike = stream as Duplex & Record<string, unknown>
  for (const method of ['setTimeout', 'setNoDelay', 'setKeepAlive', 'ref', 'unref']) {
    if (typeof socketLike[method] !== 'function') socketLike[method] = () => stream
  }
  return stream
}

/**
 * Opens a stream to the node's engine socket over the pool's (host-key verified) SSH connection:
 * OpenSSH stream-local forwarding for a direct login; with `ssh.sudo` the socket is usually root's, so
 * `sudo -n docker system dial-stdio` relays it instead.
 */
function engineStreamOpener(pool: SshPool, node: InventoryNode): () => Promise<Duplex> {
  const socket = dockerSocket(node)
  return async () => {
    const ssh = await pool.connect(node)
    if (!resolveSsh(pool.loaded, node).sudo) {
      try {
        return asHttpSocket(await ssh.forwardOutStreamLocal(socket))
      } catch (error) {
        throw new CtlError(`Cannot open the Docker Engine socket ${socket} on ${node.name} over SSH: ${(error as Error).message}`, {
          host: node.name,
          code: 'docker.unreachable',
          exitCode: ExitCode.cannotRun,
          hint: `Is dockerd running with -H unix://${socket}? (inventory docker.socket) sshd must allow stream-local forwarding (AllowStreamLocalForwarding).`,
          cause: error,
        })
      }
    }
    const client = ssh.connection
    if (!client) throw new CtlError(`SSH connection to ${node.name} is closed`, {host: node.name, code: 'ssh.connect'})
    return new Promise<Duplex>((resolve, reject) => {
      client.exec(`sudo -n ${shellCommand(['docker', '-H', `unix://${socket}`, 'system', 'dial-stdio'])}`, (error, channel) => {
        if (error)
          reject(
            new CtlError(`Cannot relay the Docker Engine socket on ${node.name}: ${error.message}`, {
              host: node.name,
              code: 'docker.unreachable',
              hint: `Check that \`sudo -n docker -H ${quote(`unix://${socket}`)} version\` works for the SSH user.`,
              cause: error,
            }),
          )
        else resolve(asHttpSocket(channel))
      })
    })
  }
}

const engines = new WeakMap<SshPool, Map<string, Docker>>()

/**
 * dockerode's constructor, loaded on the first Engine API client, not when this module is imported:
 * with docker-modem, ssh2 and gRPC under it, it costs about as much as the rest of a command's start,
 * and commands (and checks) that never call the Engine API import this module too (bench/startup.sh).
 */
let dockerode: typeof Docker | undefined
function loadDockerode(): typeof Docker {
  return (dockerode ??= createRequire(import.meta.url)('dockerode') as typeof Docker)
}

/**
 * The Engine API (dockerode) of a node, reached through the pool's SSH connection; one client per
 * pool and node. Wrap calls in `engineCall` so failures name the host and the step.
 */
export function engineApi(pool: SshPool, node: InventoryNode): Docker {
  let byNode = engines.get(pool)
  if (!byNode) engines.set(pool, (byNode = new Map()))
  let docker = byNode.get(node.name)
  if (!docker) {
    // host/port are placeholders for the request line: the agent decides where bytes go.
    const Dockerode = loadDockerode()
    docker = new Dockerode({host: 'docker.sock', port: 80, protocol: 'http', agent: new StreamAgent(engineStreamOpener(pool, node))} as Docker.DockerOptions)
    byNode.set(node.name, docker)
  }
  return docker
}

interface EngineErrorShape {
  statusCode?: number
  json?: {message?: string} | null
  reason?: string
  message?: string
}

/** The Engine's own words from a dockerode error ("This node is not a swarm manager..."). */
export function engineMessage(error: unknown): string {
  const e = error as EngineErrorShape
  const text = e?.json?.message ?? e?.message ?? String(error)
  return text.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '').trim()
}

/** HTTP status of a failed Engine call, if the Engine answered. */
export function engineStatus(error: unknown): number | undefined {
  return (error as EngineErrorShape)?.statusCode
}

/** Runs one Engine API call; any failure becomes a CtlError naming host and step, with a hint. */
export async function engineCall<T>(node: InventoryNode, step: string, call: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CtlError(`Docker Engine on ${node.name} did not answer within ${Math.round(timeoutMs / 1000)} s`, {
            host: node.name,
            step,
            code: 'docker.timeout',
            hint: 'Is dockerd overloaded or stuck? Look at its log on the node.',
          }),
        ),
      timeoutMs,
    )
  })
  try {
    return await Promise.race([call(), guard])
  } catch (error) {
    if (error instanceof CtlError)
      throw error.step
        ? error
        : new CtlError(error.message, {host: error.host, step, code: error.code, exitCode: error.exitCode, hint: error.hint, cause: error.cause})
    const status = engineStatus(error)
    const message = engineMessage(error)
    throw new CtlError(
      status ? `Docker Engine on ${node.name} refused ${step} (HTTP ${status}): ${message}` : `Docker Engine on ${node.name} failed during ${step}: ${message}`,
      {
        host: node.name,
        step,
        code: status ? 'docker.api' : 'docker.unreachable',
        hint:
          status === 503
            ? 'The node is not a manager, or the swarm has lost its quorum: see `ctl node ls <env>`.'
            : `Look at the engine by hand: ctl exec <env> --node ${node.name} -- docker -H unix://${dockerSocket(node)} info`,
        cause: error,
      },
    )
  } finally {
    clearTimeout(timer)
  }
}
