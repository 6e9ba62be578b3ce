import {readFileSync} from 'node:fs'
import {CtlError, ExitCode} from '../lib/errors.js'
import {findNode, resolveInventoryRelative, type LoadedInventory} from '../inventory/load.js'
import {resolveSecret} from '../inventory/secrets.js'
import type {Inventory} from '../inventory/schema/index.js'
import {VaultClient} from './client.js'

/** A Vault server of the inventory's `vault.members`, with the API address ctl talks to. */
export interface VaultMember {
  node: string
  address: string
  /** scheme://address:port/ */
  apiUrl: string
}

export type VaultSettings = NonNullable<Inventory['vault']>

/** The inventory's Vault section; an inventory without one cannot run vault commands. */
export function vaultSettings(loaded: LoadedInventory): VaultSettings {
  const vault = loaded.inventory.vault
  if (!vault) {
    throw new CtlError(`${loaded.file} has no vault: section`, {
      exitCode: ExitCode.cannotRun,
      code: 'vault.not-configured',
      hint: 'Add vault.members (node, port, scheme) and keyShares/keyThreshold to the inventory; see docs/VAULT.md.',
    })
  }
  return vault
}

export function apiUrl(scheme: string, address: string, port: number): string {
  const host = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address
  return `${scheme}://${host}:${port}/`
}

/** Members in inventory order: the first one is where `init` starts. */
export function vaultMembers(loaded: LoadedInventory): VaultMember[] {
  return vaultSettings(loaded).members.map((m) => {
    const node = findNode(loaded, m.node)
    return {node: node.name, address: node.address, apiUrl: apiUrl(m.scheme, node.address, m.port)}
  })
}

/** Only the members named by `--node` (all when none). */
function selectMembers(members: VaultMember[], names: string[] | undefined): VaultMember[] {
  if (!names?.length) return members
  const unknown = names.filter((n) => !members.some((m) => m.node === n))
  if (unknown.length > 0) {
    throw new CtlError(`Not a Vault member: ${unknown.join(', ')}`, {
      exitCode: ExitCode.cannotRun,
      hint: `Vault members: ${members.map((m) => m.node).join(', ')}`,
    })
  }
  return members.filter((m) => names.includes(m.node))
}

export function readCaCert(loaded: LoadedInventory): string | undefined {
  const path = vaultSettings(loaded).caCert
  if (!path) return undefined
  const file = resolveInventoryRelative(loaded, path)
  try {
    return readFileSync(file, 'utf8')
  } catch (cause) {
    throw new CtlError(`Cannot read vault.caCert ${file}`, {
      exitCode: ExitCode.cannotRun,
      hint: "Point vault.caCert at the PEM bundle that signed Vault's certificate.",
      cause,
    })
  }
}

/** The token for authenticated reads: the inventory's `vault.token` reference, else $VAULT_TOKEN. */
export function vaultToken(loaded: LoadedInventory): string | undefined {
  const ref = vaultSettings(loaded).token
  if (ref) return resolveSecret(loaded, ref)
  if (process.env.VAULT_TOKEN) return resolveSecret(loaded, 'env:VAULT_TOKEN')
  return undefined
}

/** Everything a vault command talks to: all members with their clients, and the `--node` selection. */
export interface VaultTargets {
  all: VaultMember[]
  selected: VaultMember[]
  clients: VaultClient[]
  ca?: string
}

export function vaultTargets(loaded: LoadedInventory, nodeNames?: string[]): VaultTargets {
  const all = vaultMembers(loaded)
  const ca = readCaCert(loaded)
  return {all, selected: selectMembers(all, nodeNames), clients: all.map((m) => new VaultClient(m, {ca})), ca}
}
