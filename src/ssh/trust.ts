import {Client} from 'ssh2'
import type {LoadedInventory} from '../inventory/load.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import type {CtlError} from '../lib/errors.js'
import {appendKnownHost, fingerprint, hostKeyAlgorithms, hostToken, keyTypeOf, readKnownHosts, verifyHostKey} from './known-hosts.js'
import {hostKeyError, resolveSsh} from './pool.js'

export interface HostKeyScan {
  node: InventoryNode
  key?: Buffer
  error?: string
}

/**
 * Reads each node's host key: the handshake stops at key verification, so nothing authenticates or
 * runs. It asks for the recorded key types first, as SshPool does, so it sees the key SshPool would.
 */
export async function scanHostKeys(loaded: LoadedInventory, nodes: InventoryNode[]): Promise<HostKeyScan[]> {
  return Promise.all(
    nodes.map(
      (node) =>
        new Promise<HostKeyScan>((resolve) => {
          const ssh = resolveSsh(loaded, node)
          const serverHostKey = hostKeyAlgorithms(readKnownHosts(ssh.knownHostsPath), hostToken(ssh.host, ssh.port))
          const client = new Client()
          let key: Buffer | undefined
          const done = (error?: string) => {
            client.end()
            resolve(key ? {node, key} : {node, error: error ?? 'no host key received'})
          }
          client.on('error', (e) => done(e.message))
          client.on('close', () => done())
          client.connect({
            host: ssh.host,
            port: ssh.port,
            username: ssh.user,
            readyTimeout: ssh.connectTimeoutMs,
            algorithms: {serverHostKey},
            hostVerifier: (k: Buffer) => {
              key = Buffer.from(k)
              return false
            },
          })
        }),
    ),
  )
}

export interface TrustRow {
  node: string
  token: string
  knownHostsPath: string
  keyType?: string
  fingerprint?: string
  status: 'known' | 'unknown' | 'changed' | 'revoked' | 'unreachable'
  detail?: string
  key?: Buffer
  /** Why this host's key must not be trusted (changed or revoked): the same refusal every command gives. */
  refusal?: CtlError
}

/** Decides, per host, whether its key is already known, new, or changed/revoked (refused, never replaced). */
export function planTrust(loaded: LoadedInventory, scans: HostKeyScan[]): TrustRow[] {
  return scans.map(({node, key, error}) => {
    const ssh = resolveSsh(loaded, node)
    const token = hostToken(ssh.host, ssh.port)
    if (!key) return {node: node.name, token, knownHostsPath: ssh.knownHostsPath, status: 'unreachable', detail: error}
    const verdict = verifyHostKey(readKnownHosts(ssh.knownHostsPath), token, key)
    const row: TrustRow = {
      node: node.name,
      token,
      knownHostsPath: ssh.knownHostsPath,
      keyType: keyTypeOf(key),
      fingerprint: fingerprint(key),
      status: verdict.status,
      key,
    }
    if (verdict.status === 'changed') {
      row.detail = `possible man-in-the-middle: ${ssh.knownHostsPath} records ${verdict.recorded.map((r) => `${r.keyType} ${r.fingerprint}`).join(', ')}`
    }
    if (verdict.status === 'changed' || verdict.status === 'revoked') row.refusal = hostKeyError(node, ssh, verdict, key, loaded.env, 'nothing was recorded')
    return row
  })
}

export function recordTrust(rows: TrustRow[]): void {
  for (const row of rows) if (row.key) appendKnownHost(row.knownHostsPath, row.token, row.key)
}
