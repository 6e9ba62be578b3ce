import type {Inventory} from './schema/index.js'

/** Something valid but risky in an inventory: `ctl inventory validate` and preflight report it, nothing refuses. */
export interface InventoryWarning {
  /** Path of the field, as zod paths are (e.g. `['vault', 'members', 0, 'scheme']`). */
  path: (string | number)[]
  message: string
}

/** An IPv4 address as node:net's isIPv4 has it (four decimal parts 0-255, no leading zeros). */
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/

function ipv4Number(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0)
}

/**
 * Where plain http stays on this machine or inside the lab: loopback (127.0.0.0/8, ::1, localhost)
 * and 198.18.0.0/15, the benchmarking range (RFC 2544) the lab's network namespaces use.
 */
function isLoopbackOrLab(address: string): boolean {
  const host = address.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  // node:net only for an address with a colon (IPv6 alone has one): loading it and isIPv6's first call
  // (compiling its regular expression) cost `inventory validate` 10-20 ms on this 2-core machine.
  if (host.includes(':')) return process.getBuiltinModule('node:net').isIPv6(host) && (host === '::1' || /^::ffff:(127\.|198\.1[89]\.)/.test(host))
  if (!IPV4.test(host)) return false
  const n = ipv4Number(host)
  return n >>> 24 === 127 || n >>> 17 === ipv4Number('198.18.0.0') >>> 17
}

/** Vault members reached over plain http at an address outside loopback/lab, without `insecureHttpOk: true`. */
export function plainHttpVaultMembers(inventory: Inventory): {index: number; node: string; address: string}[] {
  return (inventory.vault?.members ?? []).flatMap((member, index) => {
    const address = inventory.nodes.find((n) => n.name === member.node)?.address
    if (member.scheme !== 'http' || member.insecureHttpOk || address === undefined || isLoopbackOrLab(address)) return []
    return [{index, node: member.node, address}]
  })
}

export const PLAIN_HTTP_VAULT_RISK = 'unseal shares and the root token would cross the network in clear'
export const PLAIN_HTTP_VAULT_HINT =
  'Use scheme: https (with vault.caCert), or set insecureHttpOk: true on the member when the network path is private on purpose.'

export function inventoryWarnings(inventory: Inventory): InventoryWarning[] {
  const warnings: InventoryWarning[] = plainHttpVaultMembers(inventory).map(({index, node, address}) => ({
    path: ['vault', 'members', index, 'scheme'],
    message: `Vault on ${node} (${address}) is reached over plain http: ${PLAIN_HTTP_VAULT_RISK}. ${PLAIN_HTTP_VAULT_HINT}`,
  }))
  const pgbackrest = inventory.databases?.patroni?.pgbackrest
  if (pgbackrest && !pgbackrest.cipherPass)
    warnings.push({
      path: ['databases', 'patroni', 'pgbackrest', 'cipherPass'],
      message: `pgBackRest's repository on ${pgbackrest.repoNode} is not encrypted: anyone who reads it reads the database. Set cipherPass (a secret reference) before the first backup.`,
    })
  return warnings
}
