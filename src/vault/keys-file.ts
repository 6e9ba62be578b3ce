import {accessSync, closeSync, constants, existsSync, fchmodSync, mkdirSync, openSync, statSync, writeSync} from 'node:fs'
import {dirname} from 'node:path'
import {CtlError, ExitCode} from '../lib/errors.js'
import type {InitResponse} from './client.js'

/**
 * The file `ctl vault init` writes the key shares and root token to: created once, mode 0600, never
 * overwritten (an earlier file may hold the only copy of another cluster's keys). The field names
 * are those of `vault operator init -format=json`, so other tools read it too.
 */

export interface KeysFileContent {
  unseal_keys_b64: string[]
  unseal_keys_hex: string[]
  unseal_shares: number
  unseal_threshold: number
  /** True when each share is encrypted for its holder's PGP key (base64 of the PGP message). */
  pgp_encrypted: boolean
  pgp_key_files?: string[]
  root_token: string
  env: string
  initialized_on: string
  created_at: string
}

export function keysFileContent(
  init: InitResponse,
  facts: {env: string; node: string; shares: number; threshold: number; pgpKeyFiles?: string[]; now?: Date},
): KeysFileContent {
  return {
    unseal_keys_b64: init.keys_base64,
    unseal_keys_hex: init.keys,
    unseal_shares: facts.shares,
    unseal_threshold: facts.threshold,
    pgp_encrypted: Boolean(facts.pgpKeyFiles?.length),
    ...(facts.pgpKeyFiles?.length ? {pgp_key_files: facts.pgpKeyFiles} : {}),
    root_token: init.root_token,
    env: facts.env,
    initialized_on: facts.node,
    created_at: (facts.now ?? new Date()).toISOString(),
  }
}

/** Checked before init: once Vault hands out the keys, there must be somewhere to put them. */
export function assertKeysFileWritable(path: string): void {
  if (existsSync(path)) {
    throw new CtlError(`The keys file ${path} already exists; init would have nowhere safe to write the new keys`, {
      exitCode: ExitCode.cannotRun,
      code: 'vault.keys-file-exists',
      step: 'preflight',
      hint: 'Move it away (it may hold the only copy of earlier keys) or set vault.keysFile to a new path, then run init again.',
    })
  }
  // Nothing is created here (init may be a dry run): the nearest existing ancestor must be a
  // directory ctl can write into.
  let dir = dirname(path)
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir)
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`)
    accessSync(dir, constants.W_OK)
  } catch (cause) {
    throw new CtlError(`Cannot create the keys file ${path}: ${(cause as Error).message}`, {
      exitCode: ExitCode.cannotRun,
      step: 'preflight',
      hint: 'Set vault.keysFile to a path in a directory you can write.',
      cause,
    })
  }
}

/** Creates the file exclusively with mode 0600 (never replaces one), then writes the content. */
export function writeKeysFileOnce(path: string, content: KeysFileContent): void {
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  const fd = openSync(path, 'wx', 0o600)
  try {
    // The umask could only narrow 0600; set it exactly anyway.
    fchmodSync(fd, 0o600)
    writeSync(fd, JSON.stringify(content, null, 2) + '\n')
  } finally {
    closeSync(fd)
  }
}
