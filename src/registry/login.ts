import {dockerCli} from '../docker/index.js'
import type {LoadedInventory} from '../inventory/load.js'
import {resolveSecret} from '../inventory/secrets.js'
import type {InventoryNode, InventoryRegistry} from '../inventory/schema/index.js'
import {quote} from '../lib/shell.js'
import type {SshPool} from '../ssh/pool.js'
import {registryFor} from './reference.js'
import {besideLockDir} from '../deploy/docker.js'

/**
 * Logs a manager's docker CLI in to the registries a deploy's images come from, for one job: into a
 * private `--config` directory (0700) next to the deploy lock, made afresh under the lock and removed
 * afterwards, so the credentials rest on the manager only while the job runs and never mix with
 * anyone's ~/.docker (a run killed before its cleanup leaves it only until the next deploy). The
 * password travels on stdin (`--password-stdin`), never in argv.
 */

/** Where a deploy of `env` keeps its login, next to the lock directory (one per environment: the deploy lock guards it). */
export function registryLoginDir(lockDir: string, env: string): string {
  return besideLockDir(lockDir, `registry-login/${env}`)
}

/** The inventory registries the images come from, each once. */
export function registriesOf(loaded: LoadedInventory, images: readonly string[]): InventoryRegistry[] {
  const found = images.map((image) => registryFor(loaded.inventory.registries, image)).filter((r): r is InventoryRegistry => r !== undefined)
  return [...new Set(found)]
}

/** Runs `work` with a docker config directory logged in to `registries` (undefined when there are none). Call it under the deploy lock. */
export async function withRegistryLogin<T>(
  pool: SshPool,
  loaded: LoadedInventory,
  node: InventoryNode,
  registries: readonly InventoryRegistry[],
  work: (configDir: string | undefined) => Promise<T>,
): Promise<T> {
  if (registries.length === 0) return work(undefined)
  const dir = registryLoginDir(loaded.inventory.deployLock.dir, loaded.env)
  await pool.run(node, {script: `umask 077 && rm -rf -- ${quote(dir)} && mkdir -p -- ${quote(dir)}`}, {check: true, step: 'registry login'})
  try {
    for (const registry of registries) {
      await pool.run(node, dockerCli(node, ['--config', dir, 'login', '--username', registry.username, '--password-stdin', registry.host]), {
        stdin: resolveSecret(loaded, registry.password),
        check: true,
        step: `registry login ${registry.host}`,
        timeoutMs: 60_000,
      })
    }
    return await work(dir)
  } finally {
    await pool.run(node, {script: `rm -rf -- ${quote(dir)}`}, {step: 'registry logout'}).catch(() => undefined)
  }
}
