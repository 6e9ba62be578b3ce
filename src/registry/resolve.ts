import type Docker from 'dockerode'
import {engineMessage, engineStatus} from '../docker/index.js'
import type {LoadedInventory} from '../inventory/load.js'
import {resolveSecret} from '../inventory/secrets.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {withTimeout} from '../lib/limit.js'
import {classifyResolveError, registryFor, registryOf, serverAddress, type ResolveFailure} from './reference.js'

/**
 * Asks a node's Docker Engine what a tag points at on its registry (`GET /distribution/<image>/json`,
 * with the inventory's credentials): the engine uses its own network, CA trust and proxy, so an
 * answer also proves that this node can pull. Nothing is pulled.
 */

interface AuthConfig {
  username: string
  password: string
  serveraddress: string
}

/** The credentials for the image's registry from the inventory (resolved and registered for redaction), if it lists one. */
export function authFor(loaded: LoadedInventory, image: string): AuthConfig | undefined {
  const registry = registryFor(loaded.inventory.registries, image)
  if (!registry) return undefined
  return {username: registry.username, password: resolveSecret(loaded, registry.password), serveraddress: serverAddress(registry.host)}
}

export type DigestAnswer = {ok: true; digest: string} | {ok: false; failure: ResolveFailure; message: string}

/** One image's digest as the node's engine sees it; a failure is an answer, not an exception. */
export async function askDigest(docker: Docker, image: string, auth: AuthConfig | undefined, timeoutMs = 30_000): Promise<DigestAnswer> {
  try {
    const answer = (await withTimeout(
      docker.getImage(image).distribution(auth ? {authconfig: auth} : {}),
      timeoutMs,
      () => new Error(`no answer within ${timeoutMs / 1000} s`),
    )) as {
      Descriptor?: {digest?: string}
    }
    const digest = answer?.Descriptor?.digest
    if (!digest?.startsWith('sha256:')) return {ok: false, failure: 'unreachable', message: 'the engine answered without a digest'}
    return {ok: true, digest}
  } catch (error) {
    const message = engineMessage(error)
    return {ok: false, failure: classifyResolveError(engineStatus(error), message), message}
  }
}

/** What to say when a tag cannot be resolved: the image, the registry, and what to try. */
function resolveError(image: string, answer: Extract<DigestAnswer, {ok: false}>, node: InventoryNode, listed: boolean): CtlError {
  const registry = registryOf(image)
  const why: Record<ResolveFailure, {what: string; code: string; hint: string}> = {
    missing: {
      what: `image ${image} does not exist on ${registry} (no such tag or repository)`,
      code: 'deploy.image-not-found',
      hint: 'Check the tag (a typo? was it pushed?) and the repository name; nothing was changed.',
    },
    unauthorized: {
      what: `registry ${registry} refused the credentials for ${image}`,
      code: 'registry.unauthorized',
      hint: listed
        ? `Check the username and password of ${registry} in the inventory's registries (the password is a secret reference); nothing was changed.`
        : `${registry} needs credentials: add it to the inventory's registries (host, username, password as env:/file: reference); nothing was changed.`,
    },
    unreachable: {
      what: `registry ${registry} could not be asked for ${image}`,
      code: 'registry.unreachable',
      hint: `Can ${node.name} reach ${registry} (network, DNS, proxy)? Does its engine trust the registry's certificate (/etc/docker/certs.d/${registry}/ca.crt)? Nothing was changed.`,
    },
  }
  const reason = why[answer.failure]
  return new CtlError(`${reason.what}: ${answer.message}`, {
    host: node.name,
    step: 'resolve image digests',
    code: reason.code,
    exitCode: ExitCode.cannotRun,
    hint: reason.hint,
  })
}

/**
 * Every image → its digest, asked on the manager before anything changes. Throws the first failure
 * (in image order) as a CtlError naming the image.
 */
export async function resolveDigests(loaded: LoadedInventory, node: InventoryNode, docker: Docker, images: readonly string[]): Promise<Record<string, string>> {
  const unique = [...new Set(images)]
  const answers = await Promise.all(unique.map((image) => askDigest(docker, image, authFor(loaded, image))))
  const digests: Record<string, string> = {}
  unique.forEach((image, i) => {
    const answer = answers[i]!
    if (!answer.ok) throw resolveError(image, answer, node, registryFor(loaded.inventory.registries, image) !== undefined)
    digests[image] = answer.digest
  })
  return digests
}
