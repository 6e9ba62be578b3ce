import {X509Certificate} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readFileSync} from 'node:fs'
import {runLocal} from 'ctl/lib/local.js'
import {CERT_RENEW_BEFORE_MS, caCertCommand, certificatesToMake, serverCertCommand, type CertificateFacts, type RegistryPaths} from './registry-files.js'

/**
 * The registry's certificates: a lab CA and a server certificate for the bridge address, made with
 * openssl once and kept while valid (a new CA would break the trust of running clients).
 */

function readCertificate(path: string): X509Certificate | undefined {
  try {
    return existsSync(path) ? new X509Certificate(readFileSync(path)) : undefined
  } catch {
    return undefined
  }
}

function notNearEnd(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validTo) - now > CERT_RENEW_BEFORE_MS && Date.parse(cert.validFrom) <= now
}

/** What is on disk: a usable CA (with its key), a server certificate that CA signed for `ip`. */
export function certificateFacts(p: RegistryPaths, ip: string, now = Date.now()): CertificateFacts {
  const ca = readCertificate(p.caCert)
  const caUsable = ca !== undefined && ca.ca && existsSync(p.caKey) && notNearEnd(ca, now)
  const server = readCertificate(p.serverCert)
  const serverUsable =
    caUsable && server !== undefined && existsSync(p.serverKey) && server.verify(ca.publicKey) && server.checkIP(ip) === ip && notNearEnd(server, now)
  return {caUsable, serverUsable}
}

/** Makes what is missing or unusable; returns what was made (the registry restarts on a new certificate). */
export async function ensureCertificates(p: RegistryPaths, ip: string): Promise<{ca: boolean; server: boolean}> {
  mkdirSync(p.dir, {recursive: true, mode: 0o700})
  const make = certificatesToMake(certificateFacts(p, ip))
  if (make.ca) await runLocal(caCertCommand(p), {timeoutMs: 30_000})
  if (make.server) await runLocal(serverCertCommand(p, ip), {timeoutMs: 30_000})
  for (const key of [p.caKey, p.serverKey]) chmodSync(key, 0o600)
  return make
}
