import {CtlError, ExitCode} from '../lib/errors.js'
import type {LoadedInventory} from '../inventory/load.js'
import type {RemoteCommand} from '../lib/shell.js'

/**
 * Where each Patroni member lives: its node (for commands), address, REST and PostgreSQL ports.
 * Built from the inventory (runbooks) or from the lab's hosts (the lab component), so the same
 * REST client, SQL builders and decisions serve both.
 */
export interface PatroniMemberAddress {
  /** Patroni member name (application_name in pg_stat_replication). */
  name: string
  /** Inventory node the member runs on: commands for it run there. */
  node: string
  address: string
  restPort: number
  pgPort: number
}

export interface PatroniTopology {
  scope: string
  members: PatroniMemberAddress[]
  user: string
  database: string
  maxLagBytes: number
  writeEndpoint?: {host: string; port: number}
}

/** Runs a command on a node (the runbook's journaled ctx.run, or the lab's local runner). */
export type RunOn = (
  node: string,
  command: RemoteCommand,
  options?: {stdin?: string; timeoutMs?: number},
) => Promise<{code: number; stdout: string; stderr: string}>

export function patroniTopology(loaded: LoadedInventory): PatroniTopology {
  const section = loaded.inventory.databases.patroni
  if (!section) {
    throw new CtlError(`${loaded.file} has no databases.patroni section`, {
      exitCode: ExitCode.cannotRun,
      code: 'patroni.not-configured',
      hint: 'Describe the cluster under databases.patroni (scope, members with node and name), see docs/RUNBOOKS.md.',
    })
  }
  const members = section.members.map((m) => {
    const node = loaded.inventory.nodes.find((n) => n.name === m.node)
    if (!node) throw new CtlError(`Patroni member ${m.name} names unknown node ${m.node}`, {exitCode: ExitCode.cannotRun})
    return {name: m.name, node: m.node, address: node.address, restPort: m.restPort, pgPort: m.pgPort}
  })
  return {scope: section.scope, members, user: section.user, database: section.database, maxLagBytes: section.maxLagBytes, writeEndpoint: section.writeEndpoint}
}

export function memberNamed(topology: PatroniTopology, name: string): PatroniMemberAddress {
  const member = topology.members.find((m) => m.name === name)
  if (!member) {
    throw new CtlError(`No Patroni member named "${name}"`, {
      exitCode: ExitCode.cannotRun,
      code: 'patroni.unknown-member',
      hint: `Members: ${topology.members.map((m) => m.name).join(', ')}`,
    })
  }
  return member
}
