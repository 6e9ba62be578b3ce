import {dockerCli} from '../docker/index.js'
import type {InventoryNode} from '../inventory/schema/index.js'

/**
 * The docker CLI commands a deploy runs on a manager, as argv (the CLI is the tool for `stack deploy`
 * with compose files and for Swarm's own rollback and forced update). Reading state uses the Engine API.
 */

/** Where ctl uploads a stack's files on the manager (next to the lock directory). */
export function stackUploadDir(lockDir: string, env: string, stack: string): string {
  const parent = lockDir.replace(/\/+$/, '').replace(/\/[^/]+$/, '') || '/'
  return `${parent}/stacks/${env}/${stack}`
}

/**
 * `docker stack deploy` with every file then ctl's override; `--resolve-image never` because tags are
 * resolved by each engine (the lab has no registry), `--detach=true` because ctl watches the rollout.
 */
export function stackDeployArgv(node: InventoryNode, stack: string, remoteFiles: readonly string[]): string[] {
  return dockerCli(node, ['stack', 'deploy', ...remoteFiles.flatMap((f) => ['-c', f]), '--resolve-image', 'never', '--detach=true', stack])
}

export function serviceRollbackArgv(node: InventoryNode, service: string): string[] {
  return dockerCli(node, ['service', 'rollback', '--detach', service])
}

/**
 * A rolling restart without a new image: Swarm replaces every task, under the inventory's rollout
 * (so a service last changed by hand still rolls start-first, one at a time, paced for the gate).
 */
export function serviceForceUpdateArgv(
  node: InventoryNode,
  service: string,
  rollout: {parallelism: number; order: string; monitorSeconds: number; failureAction: string},
  delaySeconds: number,
): string[] {
  return dockerCli(node, [
    'service', 'update', '--force', '--detach',
    '--update-parallelism', String(rollout.parallelism),
    '--update-order', rollout.order,
    '--update-delay', `${delaySeconds}s`,
    '--update-monitor', `${rollout.monitorSeconds}s`,
    '--update-failure-action', rollout.failureAction,
    service,
  ])
}
