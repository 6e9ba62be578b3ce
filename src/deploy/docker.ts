import {dockerCli} from '../docker/index.js'
import type {InventoryNode} from '../inventory/schema/index.js'

/**
 * The docker CLI commands a deploy runs on a manager, as argv (the CLI is the tool for `stack deploy`
 * with compose files). Reading state and the step-by-step spec updates use the Engine API.
 */

/** Where ctl uploads a stack's files on the manager (next to the lock directory). */
export function stackUploadDir(lockDir: string, env: string, stack: string): string {
  return besideLockDir(lockDir, `stacks/${env}/${stack}`)
}

/** A path in the parent of the lock directory (`/var/lib/ctl/locks` → `/var/lib/ctl/<rest>`): ctl's own place on the manager. */
export function besideLockDir(lockDir: string, rest: string): string {
  const parent = lockDir.replace(/\/+$/, '').replace(/\/[^/]+$/, '')
  return `${parent}/${rest}`
}

/**
 * `docker stack deploy` with every file then ctl's override. `--with-registry-auth` forwards the
 * manager's login (from `configDir`) to the nodes, so workers can pull private images.
 * `--resolve-image never` because ctl already pinned every image to the digest it resolved before the
 * lock; `--detach=true` because ctl watches the rollout.
 */
export function stackDeployArgv(node: InventoryNode, stack: string, remoteFiles: readonly string[], configDir?: string): string[] {
  return dockerCli(node, [
    ...(configDir ? ['--config', configDir] : []),
    'stack',
    'deploy',
    ...remoteFiles.flatMap((f) => ['-c', f]),
    '--with-registry-auth',
    '--resolve-image',
    'never',
    '--detach=true',
    stack,
  ])
}
