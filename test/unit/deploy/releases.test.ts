import {describe, expect, it} from 'vitest'
import {appendReleases, chooseRollbackTarget, parseReleases, releasesPath, renderReleasesText, type Release} from '../../../src/deploy/releases.js'

const r = (id: number, service: string, image: string, outcome = 'ok'): Release => ({
  id,
  service,
  swarmName: `app_${service}`,
  image,
  kind: 'deploy',
  who: 'alice',
  from: 'laptop',
  at: `2026-01-01T00:00:${String(id).padStart(2, '0')}Z`,
  message: '',
  outcome,
})
const {id: _id, ...fresh} = r(0, 'app', 'app:v9')

describe('release history', () => {
  it('lives next to the deploy lock, one JSON line per release; torn lines are skipped', () => {
    expect(releasesPath('/var/lib/ctl/locks/', 'prod')).toBe('/var/lib/ctl/locks/releases-prod.jsonl')
    const text = renderReleasesText([r(1, 'app', 'app:v1'), r(2, 'api', 'api:v1')])
    expect(parseReleases(`${text}{"torn\n`)).toEqual([r(1, 'app', 'app:v1'), r(2, 'api', 'api:v1')])
  })

  it('numbers new releases after the newest and keeps the last N of each service', () => {
    const existing = [r(1, 'app', 'app:v1'), r(2, 'api', 'api:v1'), r(3, 'app', 'app:v2')]
    const all = appendReleases(existing, [fresh], 2)
    expect(all.map((x) => `${x.id} ${x.service} ${x.image}`)).toEqual(['2 api api:v1', '3 app app:v2', '4 app app:v9'])
  })

  it.each([
    ['the newest good release with another image', undefined, 'app:v3', {ok: true, id: 2}],
    ['never one that was rolled back', undefined, 'app:v2', {ok: true, id: 1}],
    ['--to a number', '1', 'app:v3', {ok: true, id: 1}],
    ['--to a tag', 'v2', 'app:v3', {ok: true, id: 2}],
    ['--to a release that failed', '3', 'app:v2', {ok: false, code: 'deploy.release-not-good'}],
    ['--to what runs now', '2', 'app:v2', {ok: false, code: 'deploy.release-running'}],
    ['--to an unknown release', '99', 'app:v2', {ok: false, code: 'deploy.no-such-release'}],
  ] as const)('rollback target: %s', (_name, to, current, expected) => {
    const history = [
      r(1, 'app', 'app:v1'),
      r(2, 'app', 'app:v2'),
      r(3, 'app', 'app:broken', 'rolled-back'),
      r(4, 'api', 'api:v1'),
      r(5, 'app', 'app:v4', 'failed'),
    ]
    const choice = chooseRollbackTarget(history, 'app', current, to)
    if (expected.ok) expect(choice.ok && choice.release.id).toBe(expected.id)
    else expect(choice).toMatchObject({ok: false, code: expected.code})
  })

  it('has nothing to go back to with a single good release', () => {
    expect(chooseRollbackTarget([r(1, 'app', 'app:v1')], 'app', 'app:v1')).toMatchObject({ok: false, code: 'deploy.no-previous'})
  })

  it('finds a pinned release by its tag or its digest, and compares pinned images by digest', () => {
    const reg = '198.18.0.1:5000/ctl-lab/app'
    const history = [
      r(1, 'app', `${reg}:v1@sha256:${'1'.repeat(64)}`),
      r(2, 'app', `${reg}:v2@sha256:${'2'.repeat(64)}`),
      r(3, 'app', `${reg}:v1@sha256:${'3'.repeat(64)}`),
    ]
    const current = `${reg}:v1@sha256:${'3'.repeat(64)}`
    // --to v1: the newest release tagged v1 is what runs; the older v1 is other bits, so by number.
    expect(chooseRollbackTarget(history, 'app', current, 'v1')).toMatchObject({ok: false, code: 'deploy.release-running'})
    expect(chooseRollbackTarget(history, 'app', current, 'v2')).toMatchObject({ok: true, release: {id: 2}})
    expect(chooseRollbackTarget(history, 'app', current, `sha256:${'1'.repeat(12)}`)).toMatchObject({ok: true, release: {id: 1}})
    expect(chooseRollbackTarget(history, 'app', current, 'sha256:1')).toMatchObject({ok: false, code: 'deploy.no-such-release'})
    // Without --to: the newest good release with other bits (release 1 has tag v1 but other bits than what runs).
    expect(chooseRollbackTarget(history.slice(0, 1).concat(history[2]!), 'app', current)).toMatchObject({ok: true, release: {id: 1}})
  })
})
