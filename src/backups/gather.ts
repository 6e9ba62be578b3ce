import type {LoadedInventory} from '../inventory/load.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import {CtlError, toCtlError} from '../lib/errors.js'
import {mapLimit} from '../lib/limit.js'
import type {RemoteRunner} from '../ssh/pool.js'
import type {BackupLocation} from './locations.js'
import {isWrongResticKey, resticSecretsStdin} from './restic.js'
import {listResticPointsCommand, parseResticPoints} from './restic-points.js'
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

/**
 * Lists the restore points of `locations`: one command per node that holds any, all nodes at once;
 * an offsite (restic) location is asked from its node on its own, the keys on stdin.
 */
export async function gatherRestorePoints(
  runner: RemoteRunner,
  loaded: Pick<LoadedInventory, 'file' | 'inventory'>,
  locations: readonly BackupLocation[],
): Promise<GatheredRestorePoints> {
  const {inventory} = loaded
  const local = locations.filter((l) => !l.restic)
  const nodeNames = [...new Set(local.flatMap((l) => l.nodes))]
  type Listing = {node: string; points: RestorePoint[]; missingDirs: string[]} | {node: string; problem: NodeProblem}
  const listings = await mapLimit(nodeNames, inventory.ssh.concurrency, async (name): Promise<Listing> => {
    const node = inventory.nodes.find((n) => n.name === name) as InventoryNode
    const here = local.filter((l) => l.nodes.includes(name))
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
  for (const location of locations) {
    if (!location.restic) continue
    const name = location.nodes[0]!
    const node = inventory.nodes.find((n) => n.name === name) as InventoryNode
    try {
      const result = await runner.run(node, listResticPointsCommand({...location, restic: location.restic}), {
        step: 'list offsite backups',
        stdin: resticSecretsStdin(loaded),
        timeoutMs: 120_000,
      })
      if (result.code !== 0) {
        const wrongKey = isWrongResticKey(result.stderr)
        throw new CtlError(
          `Listing ${location.dir} failed (exit ${result.code}): ${wrongKey ? 'backups.offsite.encryptionKey is not the key this repository was made with' : result.stderr.trim().split('\n').slice(-2).join(' ')}`,
          {
            host: name,
            hint: wrongKey
              ? 'Give the key the offsite backups were encrypted with (a restore without it is impossible, by design).'
              : 'Check backups.offsite (endpoint, caFile, keys) and that restic is installed there.',
          },
        )
      }
      listings.push({node: name, points: parseResticPoints(name, result.stdout, {...location, restic: location.restic}), missingDirs: []})
    } catch (error) {
      const failure = toCtlError(error, {host: name})
      listings.push({node: name, problem: {node: name, error: failure.message, hint: failure.hint}})
    }
  }
  return {
    points: mergeRestorePoints(listings.map((l) => ('points' in l ? l.points : []))),
    missingDirs: listings.flatMap((l) => ('missingDirs' in l ? l.missingDirs.map((d) => `${l.node}:${d}`) : [])),
    unlisted: listings.flatMap((l) => ('problem' in l ? [l.problem] : [])),
  }
}
