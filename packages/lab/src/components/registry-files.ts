import {labFilesDir} from '../instance.js'
import {DEFAULT_LAB_INSTANCE, type LabInstance} from '../types.js'

/**
 * The lab's private image registry, as data: where its files live, its configuration, the openssl
 * command lines of its certificates and the references of the images pushed to it. No I/O here.
 */

const REGISTRY_PORT = 5000
export const REGISTRY_USER = 'ctl'
const REGISTRY_REALM = 'ctl-lab'
/** Where Docker looks for the CA of a registry `<host>:<port>` (read on every connection, no restart). */
const DOCKER_CERTS_DIR = '/etc/docker/certs.d'
/** A server certificate or CA closer than this to its end is made again by `up`. */
export const CERT_RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000

export function registryPaths(instance: LabInstance = DEFAULT_LAB_INSTANCE) {
  const dir = `${instance.stateDir}/registry`
  const address = `${instance.bridgeAddress}:${REGISTRY_PORT}`
  return {
    dir,
    address,
    host: instance.bridgeAddress,
    data: `${dir}/data`,
    config: `${dir}/config.yml`,
    htpasswd: `${dir}/htpasswd`,
    caKey: `${dir}/ca.key`,
    caCert: `${dir}/ca.crt`,
    serverKey: `${dir}/server.key`,
    serverCert: `${dir}/server.crt`,
    /** The lab's own docker client config (login of the push from h1), never the operator's ~/.docker. */
    dockerConfig: `${dir}/docker-config`,
    log: `${dir}/registry.log`,
    pidFile: `${instance.runDir}/registry.pid`,
    trustDir: `${DOCKER_CERTS_DIR}/${address}`,
  }
}
export type RegistryPaths = ReturnType<typeof registryPaths>

/** `.lab/registry-password` (one for every lab instance) and the instance's CA for ctl and its tests. */
export function registryLabFiles(projectRoot: string, instance: LabInstance = DEFAULT_LAB_INSTANCE) {
  const dir = labFilesDir(projectRoot)
  return {password: `${dir}/registry-password`, ca: `${dir}/registry-ca${instance.id === 0 ? '' : `-${instance.inventoryName}`}.crt`}
}

/** The registry's config.yml (CNCF distribution 2.8): TLS, htpasswd, filesystem storage with delete. */
export function renderRegistryConfig(p: Pick<RegistryPaths, 'address' | 'data' | 'htpasswd' | 'serverCert' | 'serverKey'>): string {
  const q = (value: string) => JSON.stringify(value)
  return [
    'version: 0.1',
    'log:',
    '  level: info',
    '  fields:',
    '    service: ctl-lab-registry',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(p.data)}`,
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory',
    'http:',
    `  addr: ${q(p.address)}`,
    '  tls:',
    `    certificate: ${q(p.serverCert)}`,
    `    key: ${q(p.serverKey)}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
    'auth:',
    '  htpasswd:',
    `    realm: ${REGISTRY_REALM}`,
    `    path: ${q(p.htpasswd)}`,
    '',
  ].join('\n')
}

/** `openssl req -x509` making a P-256 key and its certificate: self-signed, or signed by `signer`. */
function opensslCertificate(o: {
  key: string
  cert: string
  days: number
  subject: string
  extensions: string[]
  signer?: {caCert: string; caKey: string}
}): string[] {
  return [
    ...['openssl', 'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-keyout', o.key, '-out', o.cert, '-days', String(o.days), '-subj', o.subject],
    ...(o.signer ? ['-CA', o.signer.caCert, '-CAkey', o.signer.caKey] : []),
    ...o.extensions.flatMap((extension) => ['-addext', extension]),
  ]
}

/** The lab CA: a self-signed certificate that may sign certificates only (10 years). */
export function caCertCommand(p: Pick<RegistryPaths, 'caKey' | 'caCert'>): string[] {
  return opensslCertificate({
    key: p.caKey,
    cert: p.caCert,
    days: 3650,
    subject: '/CN=ctl lab registry CA',
    extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
  })
}

/** The registry's server certificate, signed by the lab CA, for its IP address (Go wants the SAN). */
export function serverCertCommand(p: Pick<RegistryPaths, 'caKey' | 'caCert' | 'serverKey' | 'serverCert'>, ip: string): string[] {
  return labServerCertCommand(p, {key: p.serverKey, cert: p.serverCert}, ip, [`IP:${ip}`])
}

/** A lab server's certificate for `ip`, signed by the lab CA, with these subjectAltName entries. */
export function labServerCertCommand(
  ca: Pick<RegistryPaths, 'caKey' | 'caCert'>,
  out: {key: string; cert: string},
  ip: string,
  altNames: readonly string[],
): string[] {
  return opensslCertificate({
    ...out,
    days: 825,
    subject: `/CN=${ip}`,
    signer: ca,
    extensions: [
      `subjectAltName=${altNames.join(',')}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
    ],
  })
}

/** What `up` finds of the CA and server certificate, and what it must make again. */
export interface CertificateFacts {
  /** The CA exists, is a CA, and is not near its end. */
  caUsable: boolean
  /** The server certificate exists, is signed by that CA, names the address, and is not near its end. */
  serverUsable: boolean
}

/** A new CA breaks the trust of every engine and client that has the old one: only when it is unusable. */
export function certificatesToMake(facts: CertificateFacts): {ca: boolean; server: boolean} {
  return {ca: !facts.caUsable, server: !facts.caUsable || !facts.serverUsable}
}

/** `<registry>/<repository>:<tag>`, e.g. 198.18.0.1:5000/ctl-lab/app:v2. */
export function registryRef(address: string, repository: string, tag: string): string {
  return `${address}/${repository}:${tag}`
}

/** What h1's engine and the registry hold of one tag. */
export interface TagFacts {
  tag: string
  /** Id of h1's `ctl-lab/app:<tag>` (undefined: the app component has not built it). */
  localImageId?: string
  /** Digests h1 knows for that image in the registry's repository (RepoDigests, `repo@sha256:...`). */
  localDigests: string[]
  /** Id of h1's registry-qualified ref (undefined: not tagged). */
  registryRefImageId?: string
  /** The manifest digest the registry serves for the tag (undefined: no such tag). */
  registryDigest?: string
}

export type TagAction = 'push' | 'tag' | 'none' | 'missing'

/**
 * Per tag: `push` when the registry lacks the tag or serves other bits than h1's image (a tag moved or
 * deleted by a test); `tag` when only h1's registry-qualified ref points elsewhere; `none` when both
 * are right (a second `up` pushes nothing); `missing` when h1 has no image to push.
 */
export function tagAction(facts: TagFacts): TagAction {
  if (facts.localImageId === undefined) return 'missing'
  if (facts.registryDigest === undefined || !facts.localDigests.includes(facts.registryDigest)) return 'push'
  return facts.registryRefImageId === facts.localImageId ? 'none' : 'tag'
}
