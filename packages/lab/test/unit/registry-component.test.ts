import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {labInstance} from '../../src/instance.js'
import {
  caCertCommand,
  certificatesToMake,
  registryLabFiles,
  registryPaths,
  registryRef,
  renderRegistryConfig,
  serverCertCommand,
  tagAction,
  type TagFacts,
} from '../../src/components/registry-files.js'
import {certificateFacts} from '../../src/components/registry-tls.js'

describe('lab registry: files and configuration', () => {
  it('places the shared lab registry on the bridge address, its state in the lab dirs, its trust in certs.d', () => {
    const p = registryPaths()
    expect(p.address).toBe('198.18.0.1:5000')
    expect(p.data).toBe('/var/lib/ctl-lab/registry/data')
    expect(p.pidFile).toBe('/run/ctl-lab/registry.pid')
    expect(p.trustDir).toBe('/etc/docker/certs.d/198.18.0.1:5000')
    expect(registryPaths(labInstance('7')).trustDir).toBe('/etc/docker/certs.d/198.18.7.1:5000')
    expect(registryLabFiles('/p')).toEqual({password: '/p/.lab/registry-password', ca: '/p/.lab/registry-ca.crt'})
    expect(registryLabFiles('/p', labInstance('7')).ca).toBe('/p/.lab/registry-ca-lab7.crt')
    expect(registryRef(p.address, 'ctl-lab/app', 'v2')).toBe('198.18.0.1:5000/ctl-lab/app:v2')
  })

  it('renders a distribution 2.8 config: TLS, htpasswd realm ctl-lab, filesystem storage with delete', () => {
    const config = parse(renderRegistryConfig(registryPaths()))
    expect(config).toMatchObject({
      version: 0.1,
      storage: {filesystem: {rootdirectory: '/var/lib/ctl-lab/registry/data'}, delete: {enabled: true}},
      http: {addr: '198.18.0.1:5000', tls: {certificate: '/var/lib/ctl-lab/registry/server.crt', key: '/var/lib/ctl-lab/registry/server.key'}},
      auth: {htpasswd: {realm: 'ctl-lab', path: '/var/lib/ctl-lab/registry/htpasswd'}},
    })
  })

  it('asks openssl for a CA that only signs, and a server certificate for the IP address, signed by it', () => {
    const p = registryPaths()
    const ca = caCertCommand(p)
    expect(ca.slice(0, 3)).toEqual(['openssl', 'req', '-x509'])
    expect(ca).not.toContain('-CA')
    expect(ca.join(' ')).toContain('-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign')
    const server = serverCertCommand(p, '198.18.0.1').join(' ')
    expect(server).toContain('-CA /var/lib/ctl-lab/registry/ca.crt -CAkey /var/lib/ctl-lab/registry/ca.key')
    expect(server).toContain('-addext subjectAltName=IP:198.18.0.1')
    expect(server).toContain('-addext extendedKeyUsage=serverAuth')
    expect(server).toContain('-keyout /var/lib/ctl-lab/registry/server.key -out /var/lib/ctl-lab/registry/server.crt')
  })

  it.each([
    [
      {caUsable: true, serverUsable: true},
      {ca: false, server: false},
    ],
    [
      {caUsable: true, serverUsable: false},
      {ca: false, server: true},
    ],
    [
      {caUsable: false, serverUsable: false},
      {ca: true, server: true},
    ],
    // A new CA signs a new server certificate, even when the old one looked fine.
    [
      {caUsable: false, serverUsable: true},
      {ca: true, server: true},
    ],
  ])('certificates to make for %j: %j', (facts, make) => {
    expect(certificatesToMake(facts)).toEqual(make)
  })
})

describe('lab registry: certificates made by openssl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-registry-certs-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  const p = {...registryPaths(), dir, caKey: `${dir}/ca.key`, caCert: `${dir}/ca.crt`, serverKey: `${dir}/server.key`, serverCert: `${dir}/server.crt`}
  const run = (argv: string[]) => {
    const r = spawnSync(argv[0]!, argv.slice(1), {encoding: 'utf8'})
    expect(r.status, r.stderr).toBe(0)
  }

  it('makes a CA and a server certificate that count as usable for that address only', () => {
    expect(certificateFacts(p, '198.18.0.1')).toEqual({caUsable: false, serverUsable: false})
    run(caCertCommand(p))
    run(serverCertCommand(p, '198.18.0.1'))
    expect(certificateFacts(p, '198.18.0.1')).toEqual({caUsable: true, serverUsable: true})
    expect(certificateFacts(p, '198.18.7.1')).toEqual({caUsable: true, serverUsable: false})
    expect(statSync(p.caKey).mode & 0o777).toBe(0o600)
    // Within 30 days of its end (825 days), the server certificate is made again.
    expect(certificateFacts(p, '198.18.0.1', Date.now() + 800 * 24 * 3600 * 1000)).toEqual({caUsable: true, serverUsable: false})
  })

  it('does not accept a server certificate signed by another CA', () => {
    const other = {...p, caKey: `${dir}/other.key`, caCert: `${dir}/other.crt`}
    run(caCertCommand(other))
    run(serverCertCommand(other, '198.18.0.1'))
    expect(certificateFacts(p, '198.18.0.1')).toEqual({caUsable: true, serverUsable: false})
  })
})

describe('lab registry: what up pushes', () => {
  const base: TagFacts = {tag: 'v1', localImageId: 'sha256:img1', localDigests: ['sha256:d1'], registryRefImageId: 'sha256:img1', registryDigest: 'sha256:d1'}
  it.each<[string, Partial<TagFacts>, string]>([
    ['everything in place (a second up)', {}, 'none'],
    ['the registry lacks the tag (deleted)', {registryDigest: undefined}, 'push'],
    ['the tag moved to other bits', {registryDigest: 'sha256:other'}, 'push'],
    ['h1 never pushed this image (rebuilt by the app component)', {localDigests: []}, 'push'],
    ['the registry holds an older push of the same image', {localDigests: ['sha256:d0', 'sha256:d1']}, 'none'],
    ["h1's registry ref points at another image", {registryRefImageId: 'sha256:img2'}, 'tag'],
    ["h1's registry ref is missing", {registryRefImageId: undefined}, 'tag'],
    ['h1 has no app image to push', {localImageId: undefined, localDigests: []}, 'missing'],
  ])('%s → %s', (_, change, action) => {
    expect(tagAction({...base, ...change})).toBe(action)
  })
})
