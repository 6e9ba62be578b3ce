import {CtlError, ExitCode} from '../lib/errors.js'

/**
 * PGP public keys for `sys/init`: Vault wants each key as base64 of the binary (non-armored) key.
 * Key holders usually hand over `gpg --export --armor` output, so both forms are accepted.
 */

const ARMOR_BEGIN = /^-----BEGIN PGP [A-Z ]+-----$/
const ARMOR_END = /^-----END PGP [A-Z ]+-----$/

/** The binary content of an ASCII-armored PGP block (headers and the `=XXXX` checksum dropped). */
export function dearmor(text: string): Buffer {
  const lines = text.split(/\r?\n/).map((l) => l.trim())
  const begin = lines.findIndex((l) => ARMOR_BEGIN.test(l))
  const end = lines.findIndex((l, i) => i > begin && ARMOR_END.test(l))
  if (begin < 0 || end < 0) throw new Error('no ASCII-armored PGP block found')
  let body = lines.slice(begin + 1, end)
  // Armor headers ("Comment: ...") end with the first blank line.
  const blank = body.indexOf('')
  if (blank >= 0 && body.slice(0, blank).every((l) => /^[A-Za-z-]+: /.test(l))) body = body.slice(blank + 1)
  body = body.filter((l) => l !== '' && !/^=[A-Za-z0-9+/]{4}$/.test(l))
  return Buffer.from(body.join(''), 'base64')
}

/** The form `sys/init` takes for one public key file's content (armored or binary). */
export function pgpKeyForVault(content: Buffer, file: string): string {
  const text = content.toString('latin1')
  if (text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) return dearmor(text).toString('base64')
  // A binary OpenPGP packet starts with a tag byte whose top bit is set.
  if (content.length > 0 && (content[0]! & 0x80) !== 0) return content.toString('base64')
  throw new CtlError(`${file} is not a PGP public key`, {
    exitCode: ExitCode.cannotRun,
    code: 'vault.pgp-key',
    hint: 'Export it with `gpg --export --armor <holder>` (or without --armor) and point vault.pgpKeys at that file.',
  })
}
