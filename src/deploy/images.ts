import {CtlError, ExitCode} from '../lib/errors.js'

/**
 * Image references and the `--image X=TAG` overrides of `ctl deploy`. Pure: no host is touched.
 */

export interface ImageRef {
  /** Everything before the tag, e.g. `registry:5000/team/app`. */
  repository: string
  tag?: string
  digest?: string
}

/** Splits `repo[:tag][@digest]`; a colon inside the registry host (`host:5000/x`) is not a tag. */
export function parseImageRef(text: string): ImageRef {
  const [nameAndTag, digest] = text.split('@', 2) as [string, string | undefined]
  const lastSlash = nameAndTag.lastIndexOf('/')
  const colon = nameAndTag.indexOf(':', lastSlash + 1)
  if (colon < 0) return {repository: nameAndTag, digest}
  return {repository: nameAndTag.slice(0, colon), tag: nameAndTag.slice(colon + 1), digest}
}

function formatImageRef(ref: ImageRef): string {
  return `${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`
}

/**
 * Two references name the same image when repository and tag agree and, when both are pinned, the
 * digests too: a tag moved to other bits is another image, and so is another tag of the same bits
 * (the operator asked for that name). A digest Swarm pinned to a tag is the same image as the tag.
 */
export function sameImage(a: string, b: string): boolean {
  const x = parseImageRef(a)
  const y = parseImageRef(b)
  if (x.repository !== y.repository || (x.tag ?? 'latest') !== (y.tag ?? 'latest')) return false
  return !(x.digest && y.digest) || x.digest === y.digest
}

/** `--image app=v2` → {app: 'v2'}; the value is a tag, or a whole reference when it has `/` or `:`. */
export function parseImageOverrides(flags: readonly string[] | undefined): Record<string, string> {
  const overrides: Record<string, string> = {}
  for (const text of flags ?? []) {
    const eq = text.indexOf('=')
    const service = text.slice(0, eq)
    const value = text.slice(eq + 1)
    if (eq <= 0 || !value || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(service) || /\s/.test(value)) {
      throw new CtlError(`--image takes SERVICE=TAG (or SERVICE=IMAGE:TAG), got "${text}"`, {
        exitCode: ExitCode.cannotRun,
        code: 'deploy.bad-image-flag',
        hint: 'e.g. --image app=v2',
      })
    }
    if (overrides[service] !== undefined) {
      throw new CtlError(`--image names service "${service}" twice`, {exitCode: ExitCode.cannotRun, code: 'deploy.bad-image-flag'})
    }
    overrides[service] = value
  }
  return overrides
}

/** The image a service gets: a bare tag replaces the tag of the stack file's image. */
export function applyImageOverride(fileImage: string, override: string | undefined): string {
  if (override === undefined) return fileImage
  if (override.includes('/') || override.includes(':') || override.includes('@')) return override
  const ref = parseImageRef(fileImage)
  return formatImageRef({repository: ref.repository, tag: override})
}
