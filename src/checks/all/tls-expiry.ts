import {connect, type PeerCertificate} from 'node:tls'
import {cannotRun} from '../remote-errors.js'
import type {CheckDefinition, Finding} from '../types.js'

export interface PresentedCertificate {
  subject: string
  validTo: Date
  /** Verified against the system's CAs for this host name; else why not. */
  trusted: boolean
  trustError?: string
}

/** Reads the certificate an endpoint presents (SNI = host), without sending anything else. */
function fetchCertificate(host: string, port: number, timeoutMs: number): Promise<PresentedCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, rejectUnauthorized: false, timeout: timeoutMs}, () => {
      const cert: PeerCertificate = socket.getPeerCertificate()
      socket.end()
      if (!cert?.valid_to) return reject(cannotRun(`${host}:${port} presented no certificate`))
      resolve({
        subject: String(cert.subject?.CN ?? cert.subjectaltname ?? host),
        validTo: new Date(cert.valid_to),
        trusted: socket.authorized,
        trustError: socket.authorizationError ? String(socket.authorizationError) : undefined,
      })
    })
    socket.on('timeout', () => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)))
    socket.on('error', (error) =>
      reject(cannotRun(`TLS connection to ${host}:${port} failed: ${error.message}`, {hint: 'Is the endpoint up and reachable from here?'})),
    )
  })
}

export function judgeCertificate(cert: PresentedCertificate, minDaysValid: number, now: Date): Finding {
  const days = Math.floor((cert.validTo.getTime() - now.getTime()) / 86_400_000)
  const detail = `${cert.subject}: expires ${cert.validTo.toISOString().slice(0, 10)} (${days} days, minimum ${minDaysValid})`
  if (days < 0)
    return {status: 'fail', detail: `${cert.subject}: EXPIRED on ${cert.validTo.toISOString().slice(0, 10)}`, hint: 'Renew and deploy the certificate now.'}
  if (days < minDaysValid) return {status: 'fail', detail, hint: 'Renew the certificate (and check why automatic renewal did not).'}
  if (!cert.trusted)
    return {status: 'warn', detail: `${detail}; not trusted here: ${cert.trustError}`, hint: 'Clients may reject it: check the chain and the name it covers.'}
  return {status: 'pass', detail}
}

export const tlsExpiryCheck: CheckDefinition = {
  id: 'tls-expiry',
  title: 'TLS certificate expiry on public endpoints',
  needs: 'TLS from here to tls.endpoints',
  targets: (inventory) => inventory.tls.endpoints.map((e) => ({name: `${e.host}:${e.port}`})),
  skipReason: 'no tls.endpoints in the inventory',
  async run(ctx, target) {
    const endpoint = ctx.inventory.tls.endpoints.find((e) => `${e.host}:${e.port}` === target.name)!
    return judgeCertificate(await fetchCertificate(endpoint.host, endpoint.port, Math.min(ctx.timeoutMs, 10_000)), endpoint.minDaysValid, new Date())
  },
}
