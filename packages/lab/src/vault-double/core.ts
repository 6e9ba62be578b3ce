import {createHash, createHmac, randomBytes, randomUUID, timingSafeEqual} from 'node:crypto'
import {combine, split} from './shamir.js'
import {loadState, saveState, type DoubleCluster, type DoubleNodeState, type DoublePeer} from './state.js'

/**
 * The behaviour of one node of the Vault double: seal, init, unseal, Raft join and HA state, without
 * HTTP (see server.ts). What it emulates and what it does not is listed in server.ts and docs/VAULT.md.
 */

const DOUBLE_VERSION = '0.0.0-ctl-lab-double'
const ROOT_KEY_BYTES = 32
/** Vault accepts a hex key only when its decoded length is plausible for a key or a share. */
const KEY_MIN_BYTES = 16
const KEY_MAX_BYTES = 33

export interface Reply {
  status: number
  body?: unknown
}

type PeerCall = (apiAddr: string, path: string, body?: unknown) => Promise<Reply>

export interface DoubleOptions {
  nodeId: string
  apiAddr: string
  clusterAddr: string
  stateDir: string
  callPeer: PeerCall
}

/** What a node tells its peers about itself (double-only endpoint, the stand-in for Raft heartbeats). */
export interface PeerState {
  nodeId: string
  sealed: boolean
  active: boolean
  configIndex: number
  peers: DoublePeer[]
}

interface PendingJoin {
  leaderApiAddr: string
  shares: number
  threshold: number
  challenge: string
}

function error(status: number, ...messages: string[]): Reply {
  return {status, body: {errors: messages}}
}

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex')

function randomToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  return `hvs.${[...randomBytes(24)].map((b) => alphabet[b % alphabet.length]).join('')}`
}

/** Decodes a key share like Vault: hex when its length is plausible, else base64. */
export function decodeKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]*$/.test(text) && text.length % 2 === 0) {
    const bytes = Buffer.from(text, 'hex')
    if (bytes.length >= KEY_MIN_BYTES && bytes.length <= KEY_MAX_BYTES) return bytes
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined
  return Buffer.from(text, 'base64')
}

/** Go's strconv.ParseBool, which Vault uses for query flags. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false
  return undefined
}

/** Vault's checks of a seal configuration (vault/seal_config.go). */
export function sealConfigProblem(shares: number, threshold: number, pgpKeys?: unknown[]): string | undefined {
  if (!Number.isInteger(shares) || shares < 1) return 'shares must be at least one'
  if (!Number.isInteger(threshold) || threshold < 1) return 'threshold must be at least one'
  if (shares > 1 && threshold === 1) return 'threshold must be greater than one for multiple shares'
  if (shares > 255) return 'shares must be less than 256'
  if (threshold > shares) return 'threshold cannot be larger than shares'
  if (pgpKeys && pgpKeys.length !== shares) return 'count mismatch between number of provided PGP keys and number of shares'
  return undefined
}

export class VaultDoubleNode {
  private state: DoubleNodeState
  /** Present exactly while the node is unsealed: Vault keeps the root key in memory only. */
  private rootKey?: Buffer
  private parts: Buffer[] = []
  private nonce = ''
  private pendingJoin?: PendingJoin
  private initializing = false
  private active = false
  private activeSince?: string
  private leader?: DoublePeer
  private readonly challenges = new Map<string, Buffer>()

  constructor(private readonly options: DoubleOptions) {
    this.state = loadState(options.stateDir, options.nodeId)
  }

  private get cluster(): DoubleCluster | undefined {
    return this.state.cluster
  }

  get sealed(): boolean {
    return !this.rootKey
  }

  private get initialized(): boolean {
    return Boolean(this.cluster || this.pendingJoin)
  }

  private sealConfig(): {shares: number; threshold: number} {
    if (this.cluster) return {shares: this.cluster.shares, threshold: this.cluster.threshold}
    if (this.pendingJoin) return {shares: this.pendingJoin.shares, threshold: this.pendingJoin.threshold}
    return {shares: 0, threshold: 0}
  }

  private self(): DoublePeer {
    return {nodeId: this.options.nodeId, apiAddr: this.options.apiAddr, clusterAddr: this.options.clusterAddr}
  }

  sealStatus(): Record<string, unknown> {
    const {shares, threshold} = this.sealConfig()
    return {
      type: 'shamir',
      initialized: this.initialized,
      sealed: this.sealed,
      t: threshold,
      n: shares,
      progress: this.parts.length,
      nonce: this.nonce,
      version: DOUBLE_VERSION,
      build_date: '2026-01-01T00:00:00Z',
      migration: false,
      ...(this.sealed || !this.cluster ? {} : {cluster_name: this.cluster.clusterName, cluster_id: this.cluster.clusterId}),
      recovery_seal: false,
      storage_type: 'raft',
    }
  }

  health(query: URLSearchParams): Reply {
    const codes: Record<string, number> = {
      activecode: 200,
      standbycode: 429,
      sealedcode: 503,
      uninitcode: 501,
      drsecondarycode: 472,
      performancestandbycode: 473,
    }
    for (const name of Object.keys(codes)) {
      const text = query.get(name)
      if (text === null) continue
      const code = Number(text)
      if (!Number.isInteger(code) || code < 1) return error(400, `bad code for ${name} parameter`)
      codes[name] = code
    }
    let standbyOk = false
    if (query.has('standbyok')) {
      const parsed = parseGoBool(query.get('standbyok')!)
      if (parsed === undefined) return error(400, 'bad value for standbyok parameter')
      standbyOk = parsed
    }
    const standby = !this.sealed && !this.active
    let status = codes.activecode!
    if (!this.initialized) status = codes.uninitcode!
    else if (this.sealed) status = codes.sealedcode!
    else if (standby && !standbyOk) status = codes.standbycode!
    return {
      status,
      body: {
        initialized: this.initialized,
        sealed: this.sealed,
        standby: this.sealed || standby,
        performance_standby: false,
        replication_performance_mode: 'disabled',
        replication_dr_mode: 'disabled',
        server_time_utc: Math.floor(Date.now() / 1000),
        version: DOUBLE_VERSION,
        ...(this.sealed || !this.cluster ? {} : {cluster_name: this.cluster.clusterName, cluster_id: this.cluster.clusterId}),
      },
    }
  }

  async init(body: Record<string, unknown>): Promise<Reply> {
    // Checked and claimed before the first await, so two concurrent inits cannot both pass.
    if (this.initialized || this.initializing) return error(400, 'Vault is already initialized')
    this.initializing = true
    try {
      return await this.initialize(body)
    } finally {
      this.initializing = false
    }
  }

  private async initialize(body: Record<string, unknown>): Promise<Reply> {
    const shares = Number(body.secret_shares ?? 0)
    const threshold = Number(body.secret_threshold ?? 0)
    const pgpKeys = body.pgp_keys === undefined || body.pgp_keys === null ? undefined : (body.pgp_keys as unknown[])
    const problem = sealConfigProblem(shares, threshold, pgpKeys)
    if (problem) return error(400, `invalid seal configuration: ${problem}`)
    const rootKey = randomBytes(ROOT_KEY_BYTES)
    const plainShares = shares === 1 ? [rootKey] : split(rootKey, shares, threshold)
    const rootToken = randomToken()
    let keys = plainShares
    let returnedToken = rootToken
    const rootTokenKey = typeof body.root_token_pgp_key === 'string' && body.root_token_pgp_key ? body.root_token_pgp_key : undefined
    try {
      if (pgpKeys || rootTokenKey) {
        // Loaded only when asked for: it brings in the process runner, which slows every start.
        const {encryptForPgpKey} = await import('./pgp.js')
        // Vault encrypts the hex form of each share, so a holder's `gpg -d` prints the key to type.
        if (pgpKeys) keys = await Promise.all(plainShares.map((share, i) => encryptForPgpKey(String(pgpKeys[i]), share.toString('hex'))))
        if (rootTokenKey) returnedToken = (await encryptForPgpKey(rootTokenKey, rootToken)).toString('base64')
      }
    } catch (cause) {
      return error(400, `failed to encrypt keys: ${(cause as Error).message}`)
    }
    this.storeCluster(randomUUID(), shares, threshold, rootKey, rootToken)
    return {status: 200, body: {keys: keys.map((k) => k.toString('hex')), keys_base64: keys.map((k) => k.toString('base64')), root_token: returnedToken}}
  }

  private storeCluster(clusterId: string, shares: number, threshold: number, rootKey: Buffer, rootToken: string): void {
    this.state = {
      nodeId: this.options.nodeId,
      cluster: {
        clusterId,
        clusterName: `vault-cluster-${clusterId.slice(0, 8)}`,
        shares,
        threshold,
        keyCheck: sha256(Buffer.concat([Buffer.from(clusterId), rootKey])),
        rootTokenHash: sha256(rootToken),
        peers: [this.self()],
        configIndex: 1,
      },
    }
    saveState(this.options.stateDir, this.state)
  }

  async unseal(body: Record<string, unknown>): Promise<Reply> {
    if (body.reset === true) {
      if (!this.sealed) return error(400, 'vault is unsealed')
      this.resetProgress()
      return {status: 200, body: this.sealStatus()}
    }
    if (typeof body.key !== 'string' || body.key === '') return error(400, "'key' must be specified in request body as JSON, or 'reset' set to true")
    const key = decodeKey(body.key)
    if (!key) return error(400, "'key' must be a valid hex or base64 string")
    if (!this.sealed) return {status: 200, body: this.sealStatus()}
    if (!this.initialized) return error(400, 'Vault is not initialized')
    // Vault ignores a share it already holds for this attempt.
    if (!this.parts.some((p) => p.equals(key))) this.parts.push(key)
    if (!this.nonce) this.nonce = randomUUID()
    const {threshold} = this.sealConfig()
    if (this.parts.length < threshold) return {status: 200, body: this.sealStatus()}
    const parts = this.parts
    this.resetProgress()
    let candidate: Buffer
    try {
      candidate = threshold === 1 ? parts[0]! : combine(parts)
    } catch (cause) {
      // Vault answers a Shamir failure (e.g. two shares with the same x-coordinate) with a 500.
      return error(500, `failed to compute combined key: ${(cause as Error).message}`)
    }
    if (this.pendingJoin) {
      const joined = await this.answerChallenge(this.pendingJoin, candidate)
      if (joined.status !== 200) return joined
    } else if (sha256(Buffer.concat([Buffer.from(this.cluster!.clusterId), candidate])) !== this.cluster!.keyCheck) {
      return error(400, 'Unseal failed, invalid key')
    }
    this.rootKey = candidate
    await this.tick()
    return {status: 200, body: this.sealStatus()}
  }

  private resetProgress(): void {
    this.parts = []
    this.nonce = ''
  }

  /** The second half of a Shamir-sealed Raft join: prove the key to the leader, receive the cluster. */
  private async answerChallenge(pending: PendingJoin, candidate: Buffer): Promise<Reply> {
    const answer = createHmac('sha256', candidate).update(Buffer.from(pending.challenge, 'base64')).digest('base64')
    const reply = await this.options.callPeer(pending.leaderApiAddr, '/v1/sys/storage/raft/bootstrap/answer', {
      server_id: this.options.nodeId,
      answer,
      cluster_addr: this.options.clusterAddr,
      api_addr: this.options.apiAddr,
    })
    if (reply.status !== 200) {
      const messages = (reply.body as {errors?: string[]} | undefined)?.errors ?? [`leader answered ${reply.status}`]
      return error(reply.status >= 500 ? 500 : 400, ...messages)
    }
    const cluster = (reply.body as {double_cluster: DoubleCluster}).double_cluster
    this.pendingJoin = undefined
    this.state = {nodeId: this.options.nodeId, cluster}
    saveState(this.options.stateDir, this.state)
    return {status: 200}
  }

  async join(body: Record<string, unknown>): Promise<Reply> {
    if (this.cluster) return error(400, "join can't be invoked on an initialized cluster")
    const leaderApiAddr = typeof body.leader_api_addr === 'string' ? body.leader_api_addr.replace(/\/+$/, '') : ''
    if (!leaderApiAddr) return error(400, 'leader_api_addr is required')
    const reply = await this.options.callPeer(leaderApiAddr, '/v1/sys/storage/raft/bootstrap/challenge', {server_id: this.options.nodeId})
    if (reply.status !== 200) {
      const messages = (reply.body as {errors?: string[]} | undefined)?.errors ?? []
      return error(500, `failed to get raft challenge: leader ${leaderApiAddr} answered ${reply.status}${messages.length ? `: ${messages.join('; ')}` : ''}`)
    }
    const answer = reply.body as {challenge: string; seal_config: {secret_shares: number; secret_threshold: number}}
    this.resetProgress()
    this.pendingJoin = {leaderApiAddr, shares: answer.seal_config.secret_shares, threshold: answer.seal_config.secret_threshold, challenge: answer.challenge}
    return {status: 200, body: {joined: true}}
  }

  bootstrapChallenge(body: Record<string, unknown>): Reply {
    const serverId = String(body.server_id ?? '')
    if (!serverId) return error(400, 'no server id provided')
    const challenge = randomBytes(32)
    this.challenges.set(serverId, challenge)
    const cluster = this.cluster!
    return {
      status: 200,
      body: {challenge: challenge.toString('base64'), seal_config: {type: 'shamir', secret_shares: cluster.shares, secret_threshold: cluster.threshold}},
    }
  }

  bootstrapAnswer(body: Record<string, unknown>): Reply {
    const serverId = String(body.server_id ?? '')
    const challenge = this.challenges.get(serverId)
    if (!challenge) return error(400, 'no expected answer for the server id provided')
    const expected = createHmac('sha256', this.rootKey!).update(challenge).digest()
    const given = Buffer.from(String(body.answer ?? ''), 'base64')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return error(400, 'invalid answer given')
    this.challenges.delete(serverId)
    const peer: DoublePeer = {nodeId: serverId, apiAddr: String(body.api_addr ?? ''), clusterAddr: String(body.cluster_addr ?? '')}
    const cluster = this.cluster!
    this.state = {
      ...this.state,
      cluster: {...cluster, peers: [...cluster.peers.filter((p) => p.nodeId !== serverId), peer], configIndex: cluster.configIndex + 1},
    }
    saveState(this.options.stateDir, this.state)
    return {status: 200, body: {peers: this.state.cluster!.peers.map((p) => ({id: p.nodeId, address: p.clusterAddr})), double_cluster: this.state.cluster}}
  }

  /** Raft configuration as the active node knows it. */
  raftConfiguration(): Reply {
    const cluster = this.cluster!
    return {
      status: 200,
      body: {
        request_id: randomUUID(),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: {
          config: {
            index: cluster.configIndex,
            servers: cluster.peers.map((p) => ({
              node_id: p.nodeId,
              address: p.clusterAddr,
              leader: p.nodeId === this.options.nodeId,
              protocol_version: '3',
              voter: true,
            })),
          },
        },
        wrap_info: null,
        warnings: null,
        auth: null,
      },
    }
  }

  leaderStatus(): Reply {
    return {
      status: 200,
      body: {
        ha_enabled: true,
        is_self: this.active,
        active_time: this.active ? this.activeSince : '0001-01-01T00:00:00Z',
        leader_address: this.leader?.apiAddr ?? '',
        leader_cluster_address: this.leader ? `https://${this.leader.clusterAddr}` : '',
        performance_standby: false,
        performance_standby_last_remote_wal: 0,
        raft_committed_index: this.cluster?.configIndex ?? 0,
        raft_applied_index: this.cluster?.configIndex ?? 0,
      },
    }
  }

  /** Checks the token of an authenticated request (the root token is the only one there is). */
  tokenValid(token: string | undefined): boolean {
    return Boolean(token && this.cluster && sha256(token) === this.cluster.rootTokenHash)
  }

  /** Where a standby forwards requests that only the active node serves; undefined when this node is active. */
  forwardTarget(): DoublePeer | 'no-leader' | undefined {
    if (this.active) return undefined
    return this.leader ?? 'no-leader'
  }

  peerState(): PeerState {
    return {
      nodeId: this.options.nodeId,
      sealed: this.sealed,
      active: this.active,
      configIndex: this.cluster?.configIndex ?? 0,
      peers: this.cluster?.peers ?? [],
    }
  }

  /**
   * Stand-in for Raft heartbeats and elections: asks the peers how they are, adopts the newest
   * membership, and picks the active node. A node is active only with a quorum of unsealed voters;
   * a node that is already active stays so (the earliest in peer order wins a tie).
   */
  async tick(): Promise<void> {
    const cluster = this.cluster
    if (this.sealed || !cluster) {
      this.active = false
      this.leader = undefined
      return
    }
    const others = cluster.peers.filter((p) => p.nodeId !== this.options.nodeId)
    const views = await Promise.all(
      others.map(async (peer) => {
        const reply = await this.options.callPeer(peer.apiAddr, '/v1/sys/internal/ctl-double/peer-state').catch(() => undefined)
        return reply?.status === 200 ? (reply.body as PeerState) : undefined
      }),
    )
    const newest = views.reduce<PeerState | undefined>((best, v) => (v && v.configIndex > (best?.configIndex ?? cluster.configIndex) ? v : best), undefined)
    if (newest) {
      this.state = {...this.state, cluster: {...cluster, peers: newest.peers, configIndex: newest.configIndex}}
      saveState(this.options.stateDir, this.state)
    }
    const peers = this.cluster!.peers
    const unsealed = new Set([this.options.nodeId, ...views.filter((v) => v && !v.sealed).map((v) => v!.nodeId)])
    const quorum = Math.floor(peers.length / 2) + 1
    const order = peers.filter((p) => unsealed.has(p.nodeId))
    if (order.length < quorum) {
      this.setActive(false)
      this.leader = undefined
      return
    }
    const claimants = new Set(views.filter((v) => v && !v.sealed && v.active).map((v) => v!.nodeId))
    if (this.active) claimants.add(this.options.nodeId)
    // Without a claimant the first unsealed peer takes over; the others wait for its claim.
    let leader = claimants.size > 0 ? order.find((p) => claimants.has(p.nodeId)) : order[0]
    if (claimants.size === 0 && leader?.nodeId !== this.options.nodeId) leader = undefined
    this.leader = leader
    this.setActive(leader?.nodeId === this.options.nodeId)
  }

  private setActive(active: boolean): void {
    if (active && !this.active) this.activeSince = new Date().toISOString()
    this.active = active
  }
}
