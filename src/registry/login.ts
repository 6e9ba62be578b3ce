import {dockerCli} from '../docker/index.js'
import type {LoadedInventory} from '../inventory/load.js'
import {resolveSecret} from '../inventory/secrets.js'
import type {InventoryNode, InventoryRegistry} from '../inventory/schema/index.js'
import {quote} from '../lib/shell.js'
import type {SshPool} from '../ssh/pool.js'
import {registryFor} from './reference.js'

/**
 * Logs a manager's docker CLI in to the registries a deploy's images come from, for one job: into a
 * private, fresh `--config` directory (0700) that is removed afterwards, so the credentials rest on
 * the manager only while the job runs and never mix with anyone's ~/.docker. The password travels on
 * stdin (`--password-stdin`), never in argv.
 */

/** The inventory registries the images come from, each once. */
export function registriesOf(loaded: LoadedInventory, images: readonly string[]): InventoryRegistry[] {
  const found = images.map((image) => registryFor(loaded.inventory.registries, image)).filter((r): r is InventoryRegistry => r !== undefined)
  return [...new Set(found)]
}

/** Runs `work` with a docker config directory logged in to `registries` (undefined when there are none). */
export async function withRegistryLogin<T>(
  pool: SshPool,
  loaded: LoadedInventory,
  node: InventoryNode,
  registries: readonly InventoryRegistry[],
  work: (configDir: string | undefined) => Promise<T>,
): Promise<T> {
  if (registries.length === 0) return work(undefined)
  const made = await pool.run(node, {script: 'umask 077 && mktemp -d /tmp/ctl-docker-config.XXXXXXXX'}, {check: true, step: 'registry login'})
  const dir = made.stdout.trim()
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
