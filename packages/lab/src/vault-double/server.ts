import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {VaultDoubleNode, type Reply} from './core.js'

/**
 * The lab's Vault double: a small HTTP server that answers the parts of Vault's API ctl uses, the
 * way Vault answers them (status codes, bodies, error texts), one per lab host. No Vault server can
 * be installed on the lab machine; when a `vault` binary is on PATH the lab runs the real thing.
 *
 * It does:  sys/health (status codes and their query parameters, HEAD), sys/seal-status, sys/init
 *   (GET and PUT/POST; refused twice; shares split with real Shamir over GF(256), hex and base64;
 *   pgp_keys and root_token_pgp_key encrypted with the machine's gpg), sys/unseal (threshold,
 *   progress, nonce, reset, duplicate shares ignored, a wrong combination refused and reset),
 *   sys/leader, sys/storage/raft/join (before unseal: the joiner fetches a challenge from the leader
 *   and answers it when it is unsealed, as Vault does for Shamir seals), sys/storage/raft/configuration
 *   (root token needed; a standby forwards to the active node), and a restart seals the node again
 *   while keeping its init and Raft membership (state file in --state-dir).
 * It does not: encrypt or store any data (no barrier, no secrets engines, no auth methods, the root
 *   token is the only token), run Raft (membership travels over a double-only peer-state endpoint;
 *   the active node is the first unsealed peer with a quorum of unsealed peers, and keeps its place
 *   while it stays unsealed), listen on the cluster address, serve TLS, seal or step down on request,
 *   remove peers, autopilot, auto-unseal, or anything else in Vault's API (404).
 */

const MAX_BODY_BYTES = 1024 * 1024
const FORWARDED_HEADER = 'x-ctl-double-forwarded'

export interface DoubleServerOptions {
  nodeId: string
  listenHost: string
  /** 0 picks a free port. */
  port: number
  /** http://host:port; defaults to the listen address. */
  apiAddr?: string
  /** host:port; defaults to the listen host and port + 1. */
  clusterAddr?: string
  stateDir: string
  /** How often a node looks at its peers (the stand-in for Raft heartbeats). */
  tickMs?: number
}

export interface RunningDouble {
  node: VaultDoubleNode
  server: Server
  apiAddr: string
  close(): Promise<void>
}

/** Calls another double's API (joins, answers, forwarding, peer state). */
async function callPeer(apiAddr: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  try {
    const response = await fetch(`${apiAddr}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {'content-type': 'application/json', ...headers},
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(2000),
    })
    const text = await response.text()
    return {status: response.status, body: text ? JSON.parse(text) : undefined}
  } catch (cause) {
    return {status: 502, body: {errors: [`cannot reach ${apiAddr}: ${(cause as Error).message}`]}}
  }
}

function readBody(request: IncomingMessage): Promise<Record<string, unknown> | Reply> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    request.on('end', () => {
      if (size > MAX_BODY_BYTES) return resolve({status: 413, body: {errors: ['request body too large']}})
      const text = Buffer.concat(chunks).toString('utf8').trim()
      if (!text) return resolve({})
      try {
        const parsed = JSON.parse(text)
        resolve(
          parsed && typeof parsed === 'object' && !Array.isArray(parsed)
            ? parsed
            : {status: 400, body: {errors: ['failed to parse JSON input: not an object']}},
        )
      } catch (cause) {
        resolve({status: 400, body: {errors: [`failed to parse JSON input: ${(cause as Error).message}`]}})
      }
    })
  })
}

const isReply = (value: unknown): value is Reply => typeof (value as Reply)?.status === 'number'
const sealedReply: Reply = {status: 503, body: {errors: ['Vault is sealed']}}
const methodNotAllowed: Reply = {status: 405, body: {errors: []}}

function token(request: IncomingMessage): string | undefined {
  const header = request.headers['x-vault-token']
  if (typeof header === 'string' && header) return header
  const auth = request.headers.authorization
  return auth?.startsWith('Bearer ') ? auth.slice(7) : undefined
}

async function route(node: VaultDoubleNode, request: IncomingMessage): Promise<Reply> {
  const url = new URL(request.url ?? '/', 'http://double')
  const method = request.method ?? 'GET'
  const writes = method === 'PUT' || method === 'POST'
  const body = writes ? await readBody(request) : {}
  if (isReply(body)) return body
  switch (url.pathname) {
    case '/v1/sys/health':
      return method === 'GET' || method === 'HEAD' ? node.health(url.searchParams) : methodNotAllowed
    case '/v1/sys/seal-status':
      return method === 'GET' ? {status: 200, body: node.sealStatus()} : methodNotAllowed
    case '/v1/sys/init':
      if (method === 'GET') return {status: 200, body: {initialized: node.sealStatus().initialized}}
      return writes ? node.init(body) : methodNotAllowed
    case '/v1/sys/unseal':
      return writes ? node.unseal(body) : methodNotAllowed
    case '/v1/sys/storage/raft/join':
      return writes ? node.join(body) : methodNotAllowed
    case '/v1/sys/internal/ctl-double/peer-state':
      return {status: 200, body: node.peerState()}
  }
  if (node.sealed) return sealedReply
  switch (url.pathname) {
    case '/v1/sys/leader':
      return method === 'GET' ? node.leaderStatus() : methodNotAllowed
    case '/v1/sys/storage/raft/configuration':
      if (method !== 'GET') return methodNotAllowed
      if (!node.tokenValid(token(request))) return {status: 403, body: {errors: ['permission denied']}}
      return activeOnly(node, request, () => node.raftConfiguration())
    case '/v1/sys/storage/raft/bootstrap/challenge':
      return writes ? activeOnly(node, request, () => node.bootstrapChallenge(body), body) : methodNotAllowed
    case '/v1/sys/storage/raft/bootstrap/answer':
      return writes ? activeOnly(node, request, () => node.bootstrapAnswer(body), body) : methodNotAllowed
  }
  return {status: 404, body: {errors: []}}
}

/** Serves on the active node; a standby forwards once to the active node, as Vault does. */
async function activeOnly(node: VaultDoubleNode, request: IncomingMessage, serve: () => Reply, body?: unknown): Promise<Reply> {
  const target = node.forwardTarget()
  if (target === undefined) return serve()
  if (target === 'no-leader' || request.headers[FORWARDED_HEADER]) {
    return {status: 500, body: {errors: ['local node not active but active cluster node not found']}}
  }
  const headers: Record<string, string> = {[FORWARDED_HEADER]: '1'}
  const vaultToken = token(request)
  if (vaultToken) headers['x-vault-token'] = vaultToken
  return callPeer(target.apiAddr, new URL(request.url ?? '/', 'http://double').pathname, body, headers)
}

function respond(response: ServerResponse, reply: Reply, head: boolean): void {
  response.writeHead(reply.status, {'content-type': 'application/json', 'cache-control': 'no-store'})
  response.end(head || reply.body === undefined ? undefined : JSON.stringify(reply.body))
}

export async function startDoubleServer(options: DoubleServerOptions): Promise<RunningDouble> {
  let node: VaultDoubleNode | undefined
  const server = createServer((request, response) => {
    route(node!, request)
      .then((reply) => respond(response, reply, request.method === 'HEAD'))
      .catch((cause) => respond(response, {status: 500, body: {errors: [(cause as Error).message]}}, false))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.listenHost, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const host = options.listenHost.includes(':') ? `[${options.listenHost}]` : options.listenHost
  const apiAddr = options.apiAddr ?? `http://${host}:${port}`
  node = new VaultDoubleNode({
    nodeId: options.nodeId,
    apiAddr,
    clusterAddr: options.clusterAddr ?? `${host}:${port + 1}`,
    stateDir: options.stateDir,
    callPeer: (addr, path, body) => callPeer(addr, path, body),
  })
  let ticking = false
  const timer = setInterval(() => {
    if (ticking) return
    ticking = true
    node!
      .tick()
      .catch(() => undefined)
      .finally(() => (ticking = false))
  }, options.tickMs ?? 300)
  return {
    node,
    server,
    apiAddr,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer)
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
