import {describe, expect, it} from 'vitest'
import {classifyResolveError, isPinned, pinImage, registryFor, registryOf, serverAddress} from '../../../src/registry/reference.js'

const registries = [
  {host: '198.18.0.1:5000', username: 'ctl', password: 'file:pw'},
  {host: 'docker.io', username: 'team', password: 'env:HUB'},
]

describe('registry of an image', () => {
  it.each([
    ['app', 'docker.io'],
    ['team/app:v1', 'docker.io'],
    ['docker.io/team/app', 'docker.io'],
    ['index.docker.io/team/app', 'docker.io'],
    ['198.18.0.1:5000/ctl-lab/app:v2', '198.18.0.1:5000'],
    ['registry.example.com/team/app@sha256:ab', 'registry.example.com'],
    ['localhost/app', 'localhost'],
    ['localhost:5000/app:1', 'localhost:5000'],
  ])('%s comes from %s', (image, registry) => {
    expect(registryOf(image)).toBe(registry)
  })

  it('finds the inventory credentials of the image registry, Docker Hub under any of its names', () => {
    expect(registryFor(registries, '198.18.0.1:5000/ctl-lab/app:v2')?.username).toBe('ctl')
    expect(registryFor(registries, 'team/app:1')?.username).toBe('team')
    expect(registryFor(registries, '198.18.0.1:5001/ctl-lab/app:v2')).toBeUndefined()
    expect(serverAddress('docker.io')).toBe('https://index.docker.io/v1/')
    expect(serverAddress('198.18.0.1:5000')).toBe('198.18.0.1:5000')
  })

  it('pins a tag to a digest, keeping the tag for people', () => {
    expect(pinImage('198.18.0.1:5000/ctl-lab/app:v2', 'sha256:ab')).toBe('198.18.0.1:5000/ctl-lab/app:v2@sha256:ab')
    expect(pinImage('app@sha256:old', 'sha256:new')).toBe('app@sha256:new')
    expect(isPinned('app:v2@sha256:ab')).toBe(true)
    expect(isPinned('reg:5000/app:v2')).toBe(false)
  })

  it.each([
    [404, 'manifest unknown: manifest unknown', 'missing'],
    [404, 'name unknown: repository name not known to registry', 'missing'],
    [500, 'Head "https://198.18.0.1:5000/v2/ctl-lab/app/manifests/v9": manifest unknown', 'missing'],
    [401, 'Head "https://198.18.0.1:5000/v2/x/manifests/v1": no basic auth credentials', 'unauthorized'],
    [500, 'unauthorized: authentication required', 'unauthorized'],
    [500, 'Get "https://198.18.0.1:5000/v2/": dial tcp 198.18.0.1:5000: connect: connection refused', 'unreachable'],
    [500, 'tls: failed to verify certificate: x509: certificate signed by unknown authority', 'unreachable'],
    [undefined, 'no answer within 30 s', 'unreachable'],
  ] as const)('HTTP %s "%s" is %s', (status, message, failure) => {
    expect(classifyResolveError(status, message)).toBe(failure)
  })
})
