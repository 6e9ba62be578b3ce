import type {LoadedInventory} from '../inventory/load.js'
import type {RabbitmqCluster} from '../inventory/schema/databases.js'
import type {RemoteCommand} from '../lib/shell.js'
import type {RemoteResult} from '../ssh/pool.js'
import {parseRabbitFacts, parseRabbitViews, rabbitFactsCommand, rabbitFilesCommand, rabbitViewsCommand, type RabbitNodeFacts} from './facts.js'

/** Runs a command on a node by name (the check's pool, a runbook's ctx.run). */
export type RunOnNode = (node: string, command: RemoteCommand, options: {timeoutMs: number}) => Promise<Pick<RemoteResult, 'code' | 'stdout' | 'stderr'>>

export function rabbitmqCluster(loaded: Pick<LoadedInventory, 'inventory'>): RabbitmqCluster {
  const cluster = loaded.inventory.databases.rabbitmq
  if (!cluster) throw new Error('databases.rabbitmq is not in the inventory')
  return cluster
}

/**
 * Every member's view as one node gathers them (rabbitViewsCommand), asked of the first member whose
 * node answers over SSH; empty when none answers, or its RabbitMQ does not.
 */
async function viewsFromOneNode(cluster: RabbitmqCluster, run: RunOnNode): Promise<Map<string, string>> {
  for (const m of cluster.members) {
    try {
      const r = await run(m.node, rabbitViewsCommand(cluster, m), {timeoutMs: 30_000})
      return parseRabbitViews(r.stdout)
    } catch {
      // its node does not answer over SSH: ask the next one
    }
  }
  return new Map()
}

/**
 * Every node's facts: the members' views gathered by one node, and each node's files read on it, all
 * at once; a member whose view did not come (its RabbitMQ down or cut off) is read on its own node,
 * as rabbitFactsCommand does, and one that cannot be read carries its error.
 */
export async function readRabbitFacts(loaded: Pick<LoadedInventory, 'inventory'>, run: RunOnNode): Promise<RabbitNodeFacts[]> {
  const cluster = rabbitmqCluster(loaded)
  const viewsRead = viewsFromOneNode(cluster, run)
  return Promise.all(
    cluster.members.map(async (m) => {
      try {
        const files = run(m.node, rabbitFilesCommand(m), {timeoutMs: 30_000})
        // A failed files read is this member's error, whatever the views say.
        files.catch(() => undefined)
        const view = (await viewsRead).get(m.nodeName)
        if (view === undefined) {
          const r = await run(m.node, rabbitFactsCommand(cluster, m), {timeoutMs: 60_000})
          return parseRabbitFacts(m, r.stdout)
        }
        return parseRabbitFacts(m, `== status\n${view}\n${(await files).stdout}`)
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error)
        return {...parseRabbitFacts(m, ''), error: why, lost: `its node does not answer over SSH (${why})`}
      }
    }),
  )
}
