import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {runLocal} from 'ctl/lib/local.js'
import {knownHostsFile, labKeyFile} from './instance.js'
import {hostPublicKey, knownHostsText} from './sshd.js'
import type {LabHost, LabInstance} from './types.js'

/** The lab's client key pair in `.lab/` (gitignored): made once, reused by every instance. */
export async function ensureLabKey(projectRoot: string): Promise<string> {
  const key = labKeyFile(projectRoot)
  if (!existsSync(key)) {
    mkdirSync(dirname(key), {recursive: true, mode: 0o700})
    await runLocal(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'ctl-lab', '-f', key], {timeoutMs: 15_000})
  }
  return readFileSync(`${key}.pub`, 'utf8').trim()
}

/** Writes the instance's known_hosts from the host keys `lab up` made; returns its path. */
export function writeKnownHosts(projectRoot: string, instance: LabInstance, hosts: readonly LabHost[]): string {
  const file = knownHostsFile(projectRoot, instance)
  const entries = hosts.flatMap((h) => {
    const publicKey = hostPublicKey(h)
    return publicKey ? [{address: h.address, publicKey}] : []
  })
  const text = knownHostsText(entries)
  mkdirSync(dirname(file), {recursive: true, mode: 0o700})
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text, {mode: 0o644})
  return file
}
