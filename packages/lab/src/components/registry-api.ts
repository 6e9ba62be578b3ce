import {request} from 'node:https'

/**
 * The registry's HTTP API (distribution v2) over TLS verified by the lab CA, optionally with basic
 * auth: what `up`, `status` and the tests ask the lab registry directly, without a Docker engine.
 */

export interface RegistryEndpoint {
  /** host:port, e.g. 198.18.0.1:5000 */
  address: string
  /** PEM of the CA that signed the registry's certificate. */
  ca: string
  auth?: {user: string; password: string}
}

export interface RegistryAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** Manifest types Docker pushes (schema 2, OCI); without them 2.8 answers 404 for a schema-2 tag. */
const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ')

export function registryRequest(
  endpoint: RegistryEndpoint,
  method: 'GET' | 'HEAD' | 'DELETE',
  path: string,
  headers: Record<string, string> = {},
  timeoutMs = 5000,
): Promise<RegistryAnswer> {
  const [host, port] = endpoint.address.split(':') as [string, string]
  const auth = endpoint.auth ? {Authorization: `Basic ${Buffer.from(`${endpoint.auth.user}:${endpoint.auth.password}`).toString('base64')}`} : {}
  return new Promise((resolve, reject) => {
    const req = request({host, port: Number(port), method, path, ca: endpoint.ca, headers: {...headers, ...auth}, timeout: timeoutMs}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
    })
    req.on('timeout', () => req.destroy(new Error(`no answer from https://${endpoint.address}${path} within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** The digest the registry serves for repository:tag, or undefined when it has no such tag. */
export async function manifestDigest(endpoint: RegistryEndpoint, repository: string, tag: string): Promise<string | undefined> {
  const answer = await registryRequest(endpoint, 'HEAD', `/v2/${repository}/manifests/${encodeURIComponent(tag)}`, {Accept: MANIFEST_ACCEPT})
  if (answer.status === 404) return undefined
  const digest = answer.headers['docker-content-digest']
  if (answer.status !== 200 || typeof digest !== 'string') {
    throw new Error(`registry ${endpoint.address} answered ${answer.status} to HEAD /v2/${repository}/manifests/${tag}`)
  }
  return digest
}

/** The repository's tags (empty when it does not exist). */
export async function repositoryTags(endpoint: RegistryEndpoint, repository: string): Promise<string[]> {
  const answer = await registryRequest(endpoint, 'GET', `/v2/${repository}/tags/list`)
  if (answer.status === 404) return []
  if (answer.status !== 200) throw new Error(`registry ${endpoint.address} answered ${answer.status} to GET /v2/${repository}/tags/list`)
  return (JSON.parse(answer.body) as {tags?: string[] | null}).tags ?? []
}
