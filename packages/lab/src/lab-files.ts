import {randomBytes} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'

/** Files the lab writes for itself and for ctl (passwords in `.lab/`, configs in state dirs). */

/**
 * A lab password, generated once into `path` (0600, its directory 0700) and read back afterwards, so
 * every `up` and the inventories that reference it (`file:../.lab/<name>`) agree.
 */
export function ensureLabPassword(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim()
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  const value = randomBytes(18).toString('base64url')
  writeFileSync(path, `${value}\n`, {mode: 0o600})
  return value
}

/** Writes `content` when the file differs (and sets its mode); returns whether it changed. */
export function writeIfChanged(path: string, content: string, mode: number): boolean {
  mkdirSync(dirname(path), {recursive: true})
  const changed = !existsSync(path) || readFileSync(path, 'utf8') !== content
  if (changed) writeFileSync(path, content, {mode})
  chmodSync(path, mode)
  return changed
}
