import type {LoadedInventory} from '../inventory/load.js'
import type {RabbitmqCluster} from '../inventory/schema/databases.js'
import type {RemoteCommand} from '../lib/shell.js'
import type {RemoteResult} from '../ssh/pool.js'
import {parseRabbitFacts, rabbitFactsCommand, type RabbitNodeFacts} from './facts.js'

/** Runs a command on a node by name (the check's pool, a runbook's ctx.run). */
export type RunOnNode = (node: string, command: RemoteCommand, options: {timeoutMs: number}) => Promise<Pick<RemoteResult, 'code' | 'stdout' | 'stderr'>>

export function rabbitmqCluster(loaded: Pick<LoadedInventory, 'inventory'>): RabbitmqCluster {
  const cluster = loaded.inventory.databases.rabbitmq
  if (!cluster) throw new Error('databases.rabbitmq is not in the inventory')
  return cluster
}

/** Every node's facts, each read on its own node, all at once; one that cannot be read carries its error. */
export async function readRabbitFacts(loaded: Pick<LoadedInventory, 'inventory'>, run: RunOnNode): Promise<RabbitNodeFacts[]> {
  const cluster = rabbitmqCluster(loaded)
  return Promise.all(
    cluster.members.map(async (m) => {
      try {
        const r = await run(m.node, rabbitFactsCommand(cluster, m), {timeoutMs: 60_000})
        return parseRabbitFacts(m, r.stdout)
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error)
        return {...parseRabbitFacts(m, ''), error: why, lost: `its node does not answer over SSH (${why})`}
      }
    }),
  )
}
