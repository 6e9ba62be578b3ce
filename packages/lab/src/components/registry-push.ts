import {mkdirSync} from 'node:fs'
import {CtlError} from 'ctl/lib/errors.js'
import {runLocal} from 'ctl/lib/local.js'
import type {LabHost} from '../types.js'
import {APP_REPOSITORY, APP_TAGS} from './app-image.js'
import {manifestDigest, type RegistryEndpoint} from './registry-api.js'
import {REGISTRY_USER, registryRef, tagAction, type RegistryPaths, type TagAction, type TagFacts} from './registry-files.js'

/**
 * The app's tags in the lab registry: tagged on h1's engine and pushed from it, with the lab's own
 * docker client config (logged in with the password on stdin). Only h1 has the registry refs: the
 * other engines must pull, as workers of a real platform do.
 */

/** The docker CLI on one lab engine, with the lab registry's client config. */
function labDocker(host: LabHost, p: RegistryPaths, args: string[], options: {input?: string; timeoutMs?: number; check?: boolean} = {}) {
  return runLocal(['docker', '-H', `unix://${host.dockerSocket}`, ...args], {...options, env: {DOCKER_CONFIG: p.dockerConfig}})
}

interface InspectedImage {
  Id: string
  RepoTags?: string[] | null
  RepoDigests?: string[] | null
}

/** Facts of every tag: one `docker image inspect` on h1 (missing refs are left out) and a HEAD per tag. */
async function gatherTagFacts(h1: LabHost, p: RegistryPaths, endpoint: RegistryEndpoint, tags: string[]): Promise<TagFacts[]> {
  const refs = tags.flatMap((tag) => [`${APP_REPOSITORY}:${tag}`, registryRef(p.address, APP_REPOSITORY, tag)])
  const inspect = await labDocker(h1, p, ['image', 'inspect', ...refs], {check: false})
  const images = JSON.parse(inspect.stdout || '[]') as InspectedImage[]
  const byRef = new Map(images.flatMap((image) => (image.RepoTags ?? []).map((ref) => [ref, image] as const)))
  const repoPrefix = `${p.address}/${APP_REPOSITORY}@`
  return Promise.all(
    tags.map(async (tag): Promise<TagFacts> => {
      const local = byRef.get(`${APP_REPOSITORY}:${tag}`)
      return {
        tag,
        localImageId: local?.Id,
        localDigests: (local?.RepoDigests ?? []).filter((d) => d.startsWith(repoPrefix)).map((d) => d.slice(repoPrefix.length)),
        registryRefImageId: byRef.get(registryRef(p.address, APP_REPOSITORY, tag))?.Id,
        registryDigest: await manifestDigest(endpoint, APP_REPOSITORY, tag),
      }
    }),
  )
}

export interface PushOutcome {
  pushed: string[]
  retagged: string[]
  unchanged: string[]
}

/** Puts every app tag in the registry with h1's bits; pushes only what differs. */
export async function pushAppImages(h1: LabHost, p: RegistryPaths, endpoint: RegistryEndpoint & {auth: {password: string}}): Promise<PushOutcome> {
  const facts = await gatherTagFacts(h1, p, endpoint, Object.keys(APP_TAGS))
  const actions = new Map<string, TagAction>(facts.map((f) => [f.tag, tagAction(f)]))
  const of = (action: TagAction) => [...actions].filter(([, a]) => a === action).map(([tag]) => tag)
  if (of('missing').length > 0) {
    throw new CtlError(
      `registry: h1 has no ${of('missing')
        .map((t) => `${APP_REPOSITORY}:${t}`)
        .join(', ')} to push`,
      {
        host: h1.name,
        step: 'registry push',
        hint: 'Run `ctl lab up` (the app component builds the images before the registry pushes them).',
      },
    )
  }
  for (const tag of [...of('push'), ...of('tag')]) await labDocker(h1, p, ['tag', `${APP_REPOSITORY}:${tag}`, registryRef(p.address, APP_REPOSITORY, tag)])
  if (of('push').length > 0) {
    mkdirSync(p.dockerConfig, {recursive: true, mode: 0o700})
    await labDocker(h1, p, ['login', '--username', REGISTRY_USER, '--password-stdin', p.address], {input: endpoint.auth.password, timeoutMs: 30_000})
    // One at a time: the tags share their layer, pushed once and then found in place.
    for (const tag of of('push')) await labDocker(h1, p, ['push', '--quiet', registryRef(p.address, APP_REPOSITORY, tag)], {timeoutMs: 120_000})
  }
  return {pushed: of('push'), retagged: of('tag'), unchanged: of('none')}
}
