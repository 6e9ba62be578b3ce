import {request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {CtlError, ExitCode} from '../lib/errors.js'
import type {VaultMember} from './members.js'

/**
 * A minimal client of the Vault HTTP API parts ctl uses, talking straight to each member's API
 * address (https with the inventory's CA bundle, or http in the lab). Bodies may hold key shares or
 * tokens: they are never logged, and errors carry only Vault's own error texts.
 */

export interface VaultReply<T = unknown> {
  status: number
  body: T
}

export interface SealStatus {
  type: string
  initialized: boolean
  sealed: boolean
  t: number
  n: number
  progress: number
  nonce?: string
  version: string
  cluster_name?: string
  cluster_id?: string
  storage_type?: string
}

export interface HealthBody {
  initialized: boolean
  sealed: boolean
  standby: boolean
  version?: string
  cluster_name?: string
}

export interface LeaderBody {
  ha_enabled: boolean
  is_self: boolean
  leader_address: string
  leader_cluster_address?: string
}

export interface InitResponse {
  keys: string[]
  keys_base64: string[]
  root_token: string
}

export interface RaftServer {
  node_id: string
  address: string
  leader: boolean
  voter: boolean
}

export interface InitRequest {
  secret_shares: number
  secret_threshold: number
  pgp_keys?: string[]
}

export interface ClientOptions {
  /** PEM CA bundle that signed Vault's certificate (https only). */
  ca?: string
  timeoutMs?: number
}

export class VaultClient {
  constructor(
    readonly member: VaultMember,
    private readonly options: ClientOptions = {},
  ) {}

  /** One API call; any HTTP status is returned, only a failure to talk at all throws. */
  async call<T>(method: 'GET' | 'PUT' | 'POST', path: string, options: {body?: unknown; token?: string; step?: string} = {}): Promise<VaultReply<T>> {
    const url = new URL(`/v1/${path}`, this.member.apiUrl)
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    const headers: Record<string, string> = {accept: 'application/json'}
    if (payload !== undefined) headers['content-type'] = 'application/json'
    if (options.token) headers['x-vault-token'] = options.token
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const timeoutMs = this.options.timeoutMs ?? 10_000
    return new Promise((resolve, reject) => {
      const req = send(url, {method, headers, ca: this.options.ca, timeout: timeoutMs}, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let body: unknown
          try {
            body = text ? JSON.parse(text) : undefined
          } catch {
            body = {errors: [`not JSON: ${text.slice(0, 200)}`]}
          }
          resolve({status: res.statusCode ?? 0, body: body as T})
        })
      })
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
      req.on('error', (cause) => reject(this.unreachable(cause, options.step)))
      req.end(payload)
    })
  }

  private unreachable(cause: Error, step?: string): CtlError {
    const code = (cause as NodeJS.ErrnoException).code
    const hint =
      code === 'ECONNREFUSED'
        ? `Nothing listens at ${this.member.apiUrl}: is Vault running on ${this.member.node}? (lab: \`ctl lab status\`, then \`ctl lab up\`)`
        : /certificate|self.signed|CERT/i.test(cause.message)
          ? 'The certificate did not verify: set vault.caCert in the inventory to the CA bundle that signed it.'
          : `Check that ${this.member.apiUrl} is reachable from here (firewall, address, scheme in the inventory).`
    return new CtlError(`Cannot reach Vault at ${this.member.apiUrl}: ${cause.message}`, {
      host: this.member.node,
      step,
      code: 'vault.unreachable',
      exitCode: ExitCode.cannotRun,
      hint,
      cause,
    })
  }

  /** Like `call`, but a status other than 200/204 becomes a CtlError with Vault's error texts. */
  async expectOk<T>(method: 'GET' | 'PUT' | 'POST', path: string, options: {body?: unknown; token?: string; step: string; hint?: string}): Promise<T> {
    const reply = await this.call<T>(method, path, options)
    if (reply.status === 200 || reply.status === 204) return reply.body
    throw new CtlError(`Vault on ${this.member.node} refused ${method} /v1/${path} (HTTP ${reply.status}): ${vaultErrors(reply.body)}`, {
      host: this.member.node,
      step: options.step,
      code: 'vault.api',
      hint: options.hint,
    })
  }

  sealStatus(): Promise<SealStatus> {
    return this.expectOk<SealStatus>('GET', 'sys/seal-status', {step: 'seal-status'})
  }

  /** sys/health answers with its status code saying the state: 200, 429, 501, 503... */
  health(): Promise<VaultReply<HealthBody>> {
    return this.call<HealthBody>('GET', 'sys/health', {step: 'health'})
  }

  leader(): Promise<VaultReply<LeaderBody>> {
    return this.call<LeaderBody>('GET', 'sys/leader', {step: 'leader'})
  }

  init(request: InitRequest): Promise<InitResponse> {
    return this.expectOk<InitResponse>('PUT', 'sys/init', {body: request, step: 'init'})
  }

  submitShare(key: string): Promise<SealStatus> {
    return this.expectOk<SealStatus>('PUT', 'sys/unseal', {
      body: {key},
      step: 'unseal',
      hint: 'A wrong or mistyped share resets the attempt: check the shares and run `ctl vault unseal` again.',
    })
  }

  resetUnseal(): Promise<SealStatus> {
    return this.expectOk<SealStatus>('PUT', 'sys/unseal', {body: {reset: true}, step: 'unseal-reset'})
  }

  join(leaderApiAddr: string, leaderCa?: string): Promise<{joined: boolean}> {
    return this.expectOk<{joined: boolean}>('POST', 'sys/storage/raft/join', {
      body: {leader_api_addr: leaderApiAddr, ...(leaderCa ? {leader_ca_cert: leaderCa} : {})},
      step: 'raft-join',
      hint: `The joining node must reach ${leaderApiAddr}, and the leader must be unsealed and active.`,
    })
  }

  async raftServers(token: string): Promise<RaftServer[]> {
    const body = await this.expectOk<{data: {config: {servers: RaftServer[]}}}>('GET', 'sys/storage/raft/configuration', {
      token,
      step: 'raft-configuration',
      hint: 'Reading the Raft configuration needs a token allowed to read sys/storage/raft/configuration.',
    })
    return body.data.config.servers
  }
}

/** Vault's `{"errors": [...]}` as one line. */
function vaultErrors(body: unknown): string {
  const errors = (body as {errors?: unknown} | undefined)?.errors
  return Array.isArray(errors) && errors.length > 0 ? errors.map(String).join('; ') : 'no error text'
}
