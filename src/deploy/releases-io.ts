import {hostname} from 'node:os'
import type {LoadedInventory} from '../inventory/load.js'
import {operatorName} from '../lib/audit.js'
import {quote} from '../lib/shell.js'
import type {SshPool} from '../ssh/pool.js'
import {lockNode} from './lock.js'
import {appendReleases, parseReleases, releasesPath, renderReleasesText, type Release} from './releases.js'

/** Reads and appends the release history on the lock node (appends only while the deploy lock is held). */

export async function readReleases(pool: SshPool, loaded: LoadedInventory): Promise<Release[]> {
  const path = releasesPath(loaded.inventory.deployLock.dir, loaded.env)
  const result = await pool.run(lockNode(loaded), {script: `cat ${quote(path)} 2>/dev/null || true`}, {check: true, step: 'read release history'})
  return parseReleases(result.stdout)
}

export type NewRelease = Pick<Release, 'service' | 'swarmName' | 'image' | 'previousImage' | 'kind' | 'outcome'>

export async function recordReleases(pool: SshPool, loaded: LoadedInventory, added: readonly NewRelease[], message: string): Promise<Release[]> {
  if (added.length === 0) return []
  const {dir} = loaded.inventory.deployLock
  const existing = await readReleases(pool, loaded)
  const at = new Date().toISOString()
  const all = appendReleases(
    existing,
    added.map((r) => ({...r, who: operatorName(), from: hostname(), at, message})),
  )
  const node = lockNode(loaded)
  await pool.run(node, {script: `mkdir -p ${quote(dir)}`}, {check: true, step: 'release history'})
  await pool.writeFile(node, releasesPath(dir, loaded.env), renderReleasesText(all), '644')
  return all.slice(-added.length)
}
