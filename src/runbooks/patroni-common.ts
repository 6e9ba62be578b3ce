import {resolveSecret} from '../inventory/secrets.js'
import type {LoadedInventory} from '../inventory/load.js'
import {PatroniAccess} from '../patroni/actions.js'
import {FACTS_HEADER, factsRows, type ClusterFacts} from '../patroni/facts.js'
import {patroniTopology, type RunOn} from '../patroni/topology.js'
import {table} from './render.js'
import type {StepContext} from './types.js'

/**
 * What the Patroni and PostgreSQL runbooks share: access to the cluster through the step's journaled
 * `run` (the password resolved inside the step, never kept in the state), and the facts table.
 */

export function patroniAccess(ctx: Pick<StepContext<unknown>, 'loaded' | 'run'>): PatroniAccess {
  const topology = patroniTopology(ctx.loaded)
  const ref = ctx.loaded.inventory.databases.patroni?.password
  const password = ref ? resolveSecret(ctx.loaded, ref) : undefined
  const runOn: RunOn = (node, command, options) => ctx.run(node, command, options)
  return new PatroniAccess(topology, runOn, password)
}

export function clusterMembers(loaded: LoadedInventory): string[] {
  return patroniTopology(loaded).members.map((m) => m.name)
}

export function factsTable(facts: ClusterFacts): string[] {
  const lines = table(FACTS_HEADER, factsRows(facts))
  if (facts.paused) lines.push('The cluster is PAUSED (maintenance mode).')
  if (facts.scheduledSwitchover) lines.push(`A switchover is scheduled at ${facts.scheduledSwitchover.at}.`)
  if (facts.replicationError) lines.push(`pg_stat_replication could not be read: ${facts.replicationError}`)
  return lines
}
