import {readFileSync} from 'node:fs'
import {CtlError, ExitCode} from '../lib/errors.js'
import {registerSecret} from '../lib/redact.js'
import {resolveInventoryRelative, type LoadedInventory} from './load.js'
import type {Inventory} from './schema/index.js'

/** Resolves `env:NAME` or `file:path` at run time and registers the value for redaction. */
export function resolveSecret(loaded: Pick<LoadedInventory, 'file'>, ref: string): string {
  let value: string | undefined
  if (ref.startsWith('env:')) {
    const name = ref.slice(4)
    value = process.env[name]
    if (value === undefined) {
      throw new CtlError(`Secret ${ref} is not set`, {exitCode: ExitCode.cannotRun, code: 'secret.missing', hint: `Export ${name} before running ctl.`})
    }
  } else if (ref.startsWith('file:')) {
    const path = resolveInventoryRelative(loaded, ref.slice(5))
    try {
      value = readFileSync(path, 'utf8').replace(/\r?\n$/, '')
    } catch (error) {
      throw new CtlError(`Secret ${ref} cannot be read`, {
        exitCode: ExitCode.cannotRun,
        code: 'secret.missing',
        hint: `Check that ${path} exists and is readable.`,
        cause: error,
      })
    }
  } else {
    throw new CtlError(`"${ref}" is not a secret reference`, {exitCode: ExitCode.cannotRun, hint: 'Use env:NAME or file:path.'})
  }
  registerSecret(value)
  // Secrets reach the hosts as lines (stdin read with `read -r`, config and secrets files): a line
  // break inside one would cut it short and push the rest into the next field. Refused, not mangled.
  if (/[\r\n]/.test(value))
    throw new CtlError(`Secret ${ref} holds a line break`, {
      exitCode: ExitCode.cannotRun,
      code: 'secret.multiline',
      hint: 'ctl sends every secret as one line: keep passwords and keys on one line (a final newline in a file is fine).',
    })
  return value
}

/** Every secret reference an inventory names (the schema's `secretRef` fields; Vault's token defaults to $VAULT_TOKEN). */
function inventorySecretRefs(inventory: Inventory): string[] {
  const vaultToken = inventory.vault && (inventory.vault.token ?? 'env:VAULT_TOKEN')
  const refs = [
    inventory.databases?.galera?.password,
    inventory.databases?.patroni?.password,
    inventory.databases?.patroni?.pgbackrest?.cipherPass,
    inventory.databases?.redis?.password,
    inventory.backups?.offsite?.s3.accessKeyId,
    inventory.backups?.offsite?.s3.secretAccessKey,
    inventory.backups?.offsite?.encryptionKey,
    vaultToken,
    ...inventory.registries.map((r) => r.password),
    ...inventory.notify.webhooks.map((w) => w.url),
  ]
  return refs.filter((ref): ref is string => Boolean(ref))
}

/**
 * Registers every secret the inventory names that resolves now, so that output which echoes one
 * (`ctl exec ... -- cat` of a password file, a runbook step's error) is redacted even when the
 * command never needed it. One that does not resolve is skipped: the command needing it says so.
 */
export function registerInventorySecrets(loaded: Pick<LoadedInventory, 'file' | 'inventory'>): void {
  for (const ref of inventorySecretRefs(loaded.inventory)) {
    try {
      resolveSecret(loaded, ref)
    } catch {
      // Not set or not readable here: nothing to redact.
    }
  }
}
