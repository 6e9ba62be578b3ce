import type {LoadedInventory} from '../inventory/load.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import type {LockTarget} from '../locks/lock-run.js'

/**
 * The deploy lock: one of ctl's locks (`src/locks`), `<deployLock.dir>/deploy-<env>.lock` on the
 * inventory's first manager, the node every operator reaches. Deploy, rollback and reload take it.
 */

function deployLockName(env: string): string {
  return `deploy-${env}`
}

export function lockNode(loaded: LoadedInventory): InventoryNode {
  const node = loaded.inventory.nodes.find((n) => n.role === 'manager')
  if (!node)
    throw new CtlError('The inventory names no Swarm manager to hold the deploy lock', {
      exitCode: ExitCode.cannotRun,
      code: 'deploy.no-manager',
      hint: 'Give one node `role: manager`.',
    })
  return node
}

export function deployLockTarget(loaded: LoadedInventory): LockTarget {
  return {node: lockNode(loaded), dir: loaded.inventory.deployLock.dir, name: deployLockName(loaded.env)}
}
