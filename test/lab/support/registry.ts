import {execa} from 'execa'
import {readFileSync} from 'node:fs'
import {APP_REPOSITORY} from '../../../packages/lab/src/components/app-image.js'
import {manifestDigest, type RegistryEndpoint} from '../../../packages/lab/src/components/registry-api.js'
import {REGISTRY_USER, registryLabFiles, registryPaths, registryRef} from '../../../packages/lab/src/components/registry-files.js'
import {projectRoot} from '../../support/cli.js'
import {docker} from './swarm.js'

/**
 * The shared lab's private registry (`ctl lab up` runs it and pushes the app's tags from h1): its
 * address, credentials and CA, and ways to look at it and change it from a test, without ctl.
 */

const paths = registryPaths()
const files = registryLabFiles(projectRoot)

/** 198.18.0.1:5000 */
export const REGISTRY = paths.address
export const REGISTRY_USERNAME = REGISTRY_USER
/** `.lab/registry-ca.crt`: the lab CA (every lab engine trusts it through /etc/docker/certs.d). */
export const REGISTRY_CA_FILE = files.ca
/** `.lab/registry-password` (user `ctl`). */
export const REGISTRY_PASSWORD_FILE = files.password
/** The registry's repository of the lab app. */
const REGISTRY_REPOSITORY = `${REGISTRY}/${APP_REPOSITORY}`

/** 198.18.0.1:5000/ctl-lab/app:<tag> */
export function registryImage(tag: string): string {
  return registryRef(REGISTRY, APP_REPOSITORY, tag)
}

export function registryPassword(): string {
  return readFileSync(REGISTRY_PASSWORD_FILE, 'utf8').trim()
}

/** The registry's API with the lab CA and, unless `anonymous`, the lab credentials. */
export function registryEndpoint(options: {anonymous?: boolean} = {}): RegistryEndpoint {
  const ca = readFileSync(REGISTRY_CA_FILE, 'utf8')
  return options.anonymous ? {address: REGISTRY, ca} : {address: REGISTRY, ca, auth: {user: REGISTRY_USER, password: registryPassword()}}
}

/** The digest the registry serves for ctl-lab/app:<tag> (undefined: no such tag). */
export async function registryDigest(tag: string): Promise<string | undefined> {
  return manifestDigest(registryEndpoint(), APP_REPOSITORY, tag)
}

/** The docker CLI on a lab engine with the lab's registry client config (logged in by `lab up`). */
async function dockerWithLabLogin(host: string, args: string[], input?: string) {
  const result = await execa('docker', ['-H', `unix:///run/ctl-lab/${host}/docker.sock`, ...args], {
    env: {DOCKER_CONFIG: paths.dockerConfig},
    input,
    timeout: 120_000,
  })
  return String(result.stdout).trim()
}

/**
 * Makes ctl-lab/app:<toTag> in the registry point at the bits of <fromTag> (h1's `ctl-lab/app:<fromTag>`),
 * as a tag moved by a CI would. Returns the digest `toTag` now has. `ctl lab up` moves it back.
 */
export async function moveTag(fromTag: string, toTag: string): Promise<string> {
  await dockerWithLabLogin('h1', ['login', '--username', REGISTRY_USER, '--password-stdin', REGISTRY], registryPassword())
  await dockerWithLabLogin('h1', ['tag', `${APP_REPOSITORY}:${fromTag}`, registryImage(toTag)])
  await dockerWithLabLogin('h1', ['push', '--quiet', registryImage(toTag)])
  const digest = await registryDigest(toTag)
  if (!digest) throw new Error(`the registry has no ${toTag} after pushing it`)
  return digest
}

/** Every reference of the registry's repository on a host's engine: tags, and digests of images pulled by digest. */
async function registryRefs(host: string): Promise<string[]> {
  const rows = await docker(host, ['images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}', REGISTRY_REPOSITORY])
  return rows.stdout
    .split('\n')
    .filter(Boolean)
    .flatMap((row) => {
      const [repository, tag, digest] = row.split(' ')
      return [tag && tag !== '<none>' ? `${repository}:${tag}` : '', digest && digest !== '<none>' ? `${repository}@${digest}` : ''].filter(Boolean)
    })
}

/**
 * Removes the registry's images from a host's engine, so the next deploy must pull them. An image a
 * container still uses stays (that failure is ignored); other images (ctl-lab/app:<tag>) are untouched.
 */
export async function removeLocalRegistryImages(host: string): Promise<void> {
  const refs = await registryRefs(host)
  if (refs.length > 0) await docker(host, ['image', 'rm', ...refs], {reject: false})
}

/** RepoDigests (`198.18.0.1:5000/ctl-lab/app@sha256:...`) of the registry's images on a host's engine. */
export async function localImageDigests(host: string): Promise<string[]> {
  const ids = (await docker(host, ['images', '--quiet', '--no-trunc', REGISTRY_REPOSITORY])).stdout.split('\n').filter(Boolean)
  if (ids.length === 0) return []
  const inspect = await docker(host, ['image', 'inspect', '--format', '{{join .RepoDigests "\\n"}}', ...new Set(ids)])
  return [...new Set(inspect.stdout.split('\n').filter((d) => d.startsWith(`${REGISTRY_REPOSITORY}@`)))].sort()
}
