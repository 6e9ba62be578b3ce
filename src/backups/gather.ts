import type {Inventory, InventoryNode} from '../inventory/schema/index.js'
import {CtlError, toCtlError} from '../lib/errors.js'
import {mapLimit} from '../lib/limit.js'
import type {RemoteRunner} from '../ssh/pool.js'
import type {BackupLocation} from './locations.js'
import {listRestorePointsCommand, mergeRestorePoints, parseRestorePoints, type RestorePoint} from './restore-points.js'

export interface NodeProblem {
  node: string
  error: string
  hint?: string
}

export interface GatheredRestorePoints {
  points: RestorePoint[]
  /** `node:dir` of every location directory that does not exist yet. */
  missingDirs: string[]
  /** Nodes that could not be listed: what they hold is not in `points`. */
  unlisted: NodeProblem[]
}

/** Lists the restore points of `locations`: one command per node that holds any, all nodes at once. */
export async function gatherRestorePoints(runner: RemoteRunner, inventory: Inventory, locations: readonly BackupLocation[]): Promise<GatheredRestorePoints> {
  const nodeNames = [...new Set(locations.flatMap((l) => l.nodes))]
  type Listing = {node: string; points: RestorePoint[]; missingDirs: string[]} | {node: string; problem: NodeProblem}
  const listings = await mapLimit(nodeNames, inventory.ssh.concurrency, async (name): Promise<Listing> => {
    const node = inventory.nodes.find((n) => n.name === name) as InventoryNode
    const here = locations.filter((l) => l.nodes.includes(name))
    try {
      const result = await runner.run(node, listRestorePointsCommand(here), {step: 'list backups', timeoutMs: 120_000})
      if (result.code !== 0)
        throw new CtlError(`Listing the backups failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-2).join(' ')}`, {host: name})
      return {node: name, ...parseRestorePoints(name, result.stdout, here)}
    } catch (error) {
      const failure = toCtlError(error, {host: name})
      return {node: name, problem: {node: name, error: failure.message, hint: failure.hint}}
    }
  })
  return {
    points: mergeRestorePoints(listings.map((l) => ('points' in l ? l.points : []))),
    missingDirs: listings.flatMap((l) => ('missingDirs' in l ? l.missingDirs.map((d) => `${l.node}:${d}`) : [])),
    unlisted: listings.flatMap((l) => ('problem' in l ? [l.problem] : [])),
  }
}
