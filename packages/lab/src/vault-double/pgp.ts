import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runLocal} from 'ctl/lib/local.js'
import {dearmor} from 'ctl/vault/pgp.js'

/**
 * Encrypts `plaintext` for one base64-encoded PGP public key with the machine's `gpg`, in a
 * throw-away keyring, the way Vault encrypts key shares for their holders. Returns the binary message.
 */
export async function encryptForPgpKey(base64Key: string, plaintext: string): Promise<Buffer> {
  const home = mkdtempSync(join(tmpdir(), 'ctl-vault-double-gpg-'))
  try {
    const keyFile = join(home, 'holder.gpg')
    writeFileSync(keyFile, Buffer.from(base64Key, 'base64'))
    const gpg = ['gpg', '--homedir', home, '--batch', '--quiet', '--no-tty']
    await runLocal([...gpg, '--import', keyFile], {timeoutMs: 20_000})
    const listing = await runLocal([...gpg, '--with-colons', '--list-keys'], {timeoutMs: 20_000})
    const fingerprint = listing.stdout
      .split('\n')
      .find((l) => l.startsWith('fpr:'))
      ?.split(':')[9]
    if (!fingerprint) throw new Error('the PGP key has no fingerprint')
    const encrypted = await runLocal([...gpg, '--trust-model', 'always', '--armor', '--encrypt', '--recipient', fingerprint], {
      input: plaintext,
      timeoutMs: 20_000,
    })
    return dearmor(encrypted.stdout)
  } finally {
    rmSync(home, {recursive: true, force: true})
  }
}
