import {CtlError, ExitCode} from '../lib/errors.js'
import {resolveSecret} from '../inventory/secrets.js'
import {chooseBackupSource} from '../patroni/backup-source.js'
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

/**
 * The backups' first step: the cluster's facts (reported), then where to copy from: the streaming
 * replica with the least lag when backupFromReplica allows it, else the leader. Refuses when neither.
 */
export async function readFactsAndBackupSource(
  ctx: Pick<StepContext<unknown>, 'loaded' | 'report'>,
  access: PatroniAccess,
  refusalCode: string,
): Promise<{facts: ClusterFacts; source: {member: string; role: 'leader' | 'replica'; why: string}}> {
  const section = ctx.loaded.inventory.databases.patroni!
  const facts = await access.facts()
  ctx.report(factsTable(facts))
  const source = chooseBackupSource(facts, {fromReplica: section.backupFromReplica, maxLagBytes: section.maxLagBytes})
  if (!source.ok) throw new CtlError(`Cannot back up: ${source.reason}`, {exitCode: ExitCode.cannotRun, code: refusalCode, hint: source.hint})
  return {facts, source}
}
