import type {InventoryRegistry} from '../inventory/schema/index.js'
import {parseImageRef} from '../deploy/images.js'

/**
 * Which registry an image comes from, and with which credentials. Pure. Docker's rule: the first
 * path component is a registry host when it has a "." or a ":" or is "localhost"; otherwise the image
 * is on Docker Hub (`docker.io`).
 */

const DOCKER_HUB = 'docker.io'
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])

export function registryOf(image: string): string {
  const {repository} = parseImageRef(image)
  const slash = repository.indexOf('/')
  if (slash < 0) return DOCKER_HUB
  const first = repository.slice(0, slash)
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost') return DOCKER_HUB
  return DOCKER_HUB_ALIASES.has(first) ? DOCKER_HUB : first
}

/** The inventory's entry for the image's registry, if it lists one. */
export function registryFor(registries: readonly InventoryRegistry[], image: string): InventoryRegistry | undefined {
  const host = registryOf(image)
  return registries.find((r) => (DOCKER_HUB_ALIASES.has(r.host) ? DOCKER_HUB : r.host) === host)
}

/** The `serveraddress` Docker expects in an auth config (Docker Hub keeps its historical index URL). */
export function serverAddress(host: string): string {
  return DOCKER_HUB_ALIASES.has(host) ? 'https://index.docker.io/v1/' : host
}

/** `repo:tag@digest`: the tag stays for people, the digest decides which bits run. */
export function pinImage(image: string, digest: string): string {
  const ref = parseImageRef(image)
  return `${ref.repository}${ref.tag ? `:${ref.tag}` : ''}@${digest}`
}

export function isPinned(image: string): boolean {
  return parseImageRef(image).digest !== undefined
}

/** How asking a registry for a tag's digest failed, from the Engine's status and words. */
export type ResolveFailure = 'missing' | 'unauthorized' | 'unreachable'

export function classifyResolveError(status: number | undefined, message: string): ResolveFailure {
  const text = message.toLowerCase()
  if (status === 401 || status === 403 || /unauthorized|authentication required|no basic auth credentials|denied|incorrect username or password/.test(text))
    return 'unauthorized'
  if (status === 404 || /manifest unknown|name unknown|not found|does not exist/.test(text)) return 'missing'
  return 'unreachable'
}
