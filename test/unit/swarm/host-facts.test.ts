import {describe, expect, it} from 'vitest'
import {hostProbeCommand, installEngineCommand, isSupportedOs, parseHostProbe, parseOsRelease, versionAtLeast} from '../../../src/swarm/host-facts.js'

const debian = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
`
const ubuntu = `NAME="Ubuntu"
VERSION_ID="22.04"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 22.04.4 LTS"
`

describe('host facts', () => {
  it('probes OS and dockerd in one command', () => {
    expect(hostProbeCommand()).toEqual({script: 'cat /etc/os-release 2>/dev/null; echo __ctl_probe__; command -v dockerd || true'})
  })

  it('parses the probe output', () => {
    expect(parseHostProbe(`${debian}__ctl_probe__\n/usr/sbin/dockerd\n`)).toEqual({
      os: {id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)', family: ['debian']},
      dockerInstalled: true,
    })
    expect(parseHostProbe('__ctl_probe__\n')).toEqual({os: undefined, dockerInstalled: false})
  })

  it('supports Debian and its derivatives only', () => {
    expect(isSupportedOs(parseOsRelease(debian))).toBe(true)
    expect(isSupportedOs(parseOsRelease(ubuntu))).toBe(true)
    expect(parseOsRelease(ubuntu)?.family).toEqual(['ubuntu', 'debian'])
    expect(isSupportedOs(parseOsRelease('ID="rocky"\nID_LIKE="rhel centos fedora"\n'))).toBe(false)
  })

  it('installs the distribution package without questions', () => {
    expect(installEngineCommand()).toEqual({
      script: 'export DEBIAN_FRONTEND=noninteractive && apt-get update -q && apt-get install -y -q --no-install-recommends docker.io',
    })
  })

  it.each([
    ['20.10.24+dfsg1', '20.10', true],
    ['20.10.0', '20.10.1', false],
    ['24.0.7', '20.10', true],
    ['19.03.15', '20.10', false],
    ['20.10', '20.10.0', true],
    ['garbage', '20.10', false],
  ])('%s ≥ %s: %s', (version, minimum, expected) => {
    expect(versionAtLeast(version, minimum)).toBe(expected)
  })
})
