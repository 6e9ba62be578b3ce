import {parseImageRef, sameImage} from './images.js'
import type {ServicePlan} from './plan.js'
import type {ServiceOutcome} from './service-rollout.js'

/**
 * Release history: the last releases of each service (image, who, when, why, how it ended), kept on
 * the platform in `deployLock.dir` on the lock node, next to the deploy lock (written only while the
 * lock is held). `ctl releases` lists them; `ctl rollback --to` picks one. Pure: text in, text out.
 */

export interface Release {
  /** Increasing number within the environment: what `ctl rollback --to` takes. */
  id: number
  service: string
  swarmName: string
  /** The image this release put on (or tried to). */
  image: string
  /** The image that ran before it. */
  previousImage?: string
  kind: 'deploy' | 'reload' | 'rollback' | 'repair'
  who: string
  from: string
  at: string
  message: string
  /** ok (the release runs), rolled-back, rollback-failed, failed. */
  outcome: string
}

/** Releases kept per service. */
const RELEASES_KEPT = 20

export function releasesPath(lockDir: string, env: string): string {
  return `${lockDir.replace(/\/+$/, '')}/releases-${env}.jsonl`
}

/** One JSON object a line; a torn or foreign line is skipped, not fatal. */
export function parseReleases(text: string): Release[] {
  const out: Release[] = []
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    try {
      const r = JSON.parse(line) as Release
      if (typeof r.id === 'number' && typeof r.service === 'string' && typeof r.image === 'string') out.push(r)
    } catch {
      // skipped
    }
  }
  return out
}

/** Adds releases (numbered after the newest) and keeps the last `keep` of each service. */
export function appendReleases(existing: readonly Release[], added: readonly Omit<Release, 'id'>[], keep = RELEASES_KEPT): Release[] {
  let next = Math.max(0, ...existing.map((r) => r.id)) + 1
  const all = [...existing, ...added.map((r) => ({...r, id: next++}))]
  const kept: Release[] = []
  const counts = new Map<string, number>()
  for (const r of [...all].reverse()) {
    const n = counts.get(r.service) ?? 0
    if (n >= keep) continue
    counts.set(r.service, n + 1)
    kept.unshift(r)
  }
  return kept
}

export function renderReleasesText(releases: readonly Release[]): string {
  return releases.map((r) => JSON.stringify(r)).join('\n') + (releases.length ? '\n' : '')
}

/** `--to` names a release by its whole image, its tag, or its digest (`sha256:…`, at least 12 hex digits of it). */
function releaseNamed(release: Release, to: string): boolean {
  const ref = parseImageRef(release.image)
  if (release.image === to || ref.tag === to) return true
  return ref.digest !== undefined && /^sha256:[0-9a-f]{12,64}$/.test(to) && ref.digest.startsWith(to)
}

export type RollbackChoice = {ok: true; release: Release} | {ok: false; code: string; message: string}

/**
 * The release `ctl rollback` goes back to: `--to` names one by number (or by image/tag); without it,
 * the newest release that ran fine with an image other than the one running now. Only a release that
 * ran fine (outcome ok) is a target: the others never served.
 */
export function chooseRollbackTarget(releases: readonly Release[], service: string, currentImage: string, to?: string): RollbackChoice {
  const mine = releases.filter((r) => r.service === service)
  if (to !== undefined) {
    const byId = /^#?\d+$/.test(to) ? mine.find((r) => r.id === Number(to.replace('#', ''))) : undefined
    const byImage = byId ? undefined : [...mine].reverse().find((r) => r.outcome === 'ok' && releaseNamed(r, to))
    const release = byId ?? byImage
    if (!release) return {ok: false, code: 'deploy.no-such-release', message: `no release "${to}" of ${service} in the history (ctl releases lists them)`}
    if (release.outcome !== 'ok')
      return {
        ok: false,
        code: 'deploy.release-not-good',
        message: `release ${release.id} (${release.image}) ended ${release.outcome}: it never served, so it is no target for a rollback`,
      }
    if (sameImage(release.image, currentImage))
      return {ok: false, code: 'deploy.release-running', message: `release ${release.id} (${release.image}) is what runs now`}
    return {ok: true, release}
  }
  const release = [...mine].reverse().find((r) => r.outcome === 'ok' && !sameImage(r.image, currentImage))
  if (!release) return {ok: false, code: 'deploy.no-previous', message: `has no earlier good release in the history to roll back to`}
  return {ok: true, release}
}

/** The history's entries for a deploy: one per service it rolled, with what it put on and how it ended. */
export function releasesOfDeploy(
  changes: readonly ServicePlan[],
  services: readonly ServiceOutcome[],
): Pick<Release, 'service' | 'swarmName' | 'image' | 'previousImage' | 'kind' | 'outcome'>[] {
  return services.map((s) => {
    const change = changes.find((c) => c.swarmName === s.swarmName)
    return {
      service: change?.service ?? s.service,
      swarmName: s.swarmName,
      image: change?.newImage ?? s.finalImage,
      previousImage: change?.oldImage ?? undefined,
      kind: change?.action === 'repair' ? 'repair' : 'deploy',
      outcome: s.outcome === 'updated' ? 'ok' : s.outcome,
    }
  })
}
