import {describe, expect, it} from 'vitest'
import {applyImageOverride, parseImageOverrides, parseImageRef, sameImage} from '../../../src/deploy/images.js'

describe('image references', () => {
  it.each([
    ['app', {repository: 'app', tag: undefined, digest: undefined}],
    ['ctl-lab/app:v1', {repository: 'ctl-lab/app', tag: 'v1', digest: undefined}],
    ['registry:5000/team/app', {repository: 'registry:5000/team/app', tag: undefined, digest: undefined}],
    ['registry:5000/team/app:2.1@sha256:abc', {repository: 'registry:5000/team/app', tag: '2.1', digest: 'sha256:abc'}],
  ])('parses %s', (text, ref) => {
    expect(parseImageRef(text)).toEqual(ref)
  })

  it.each([
    ['registry:5000/team/app:1.0', 'v2', 'registry:5000/team/app:v2'],
    ['ctl-lab/app:v1', undefined, 'ctl-lab/app:v1'],
    ['ctl-lab/app', 'v3', 'ctl-lab/app:v3'],
    ['ctl-lab/app:v1', 'other/app:9', 'other/app:9'],
  ])('%s with override %s → %s', (file, override, result) => {
    expect(applyImageOverride(file, override)).toBe(result)
  })

  it('treats a digest pinned by Swarm as the same image, another tag as different', () => {
    expect(sameImage('app:v1@sha256:1', 'app:v1')).toBe(true)
    expect(sameImage('app', 'app:latest')).toBe(true)
    expect(sameImage('app:v1', 'app:v2')).toBe(false)
    // Both pinned: a tag moved to other bits is another image; so is another tag of the same bits (the name asked for).
    expect(sameImage('reg:5000/app:v1@sha256:1', 'reg:5000/app:v1@sha256:2')).toBe(false)
    expect(sameImage('reg:5000/app:v1@sha256:1', 'reg:5000/app:v1@sha256:1')).toBe(true)
    expect(sameImage('reg:5000/app:v1@sha256:1', 'reg:5000/app:latest@sha256:1')).toBe(false)
    expect(sameImage('reg:5000/app:v1@sha256:1', 'other:5000/app:v1@sha256:1')).toBe(false)
  })

  it('parses --image flags and refuses bad ones', () => {
    expect(parseImageOverrides(['app=v2', 'api=reg/api:3'])).toEqual({app: 'v2', api: 'reg/api:3'})
    for (const bad of [['app'], ['=v2'], ['app='], ['app=v 2'], ['a;b=v2'], ['app=v1', 'app=v2']]) {
      expect(() => parseImageOverrides(bad), bad.join(' ')).toThrow(/--image/)
    }
  })
})
