import {describe, expect, it} from 'vitest'
import {aptInstallCommand, dpkgQueryCommand, missingPackages, parseInstalled} from '../../src/packages.js'

describe('lab packages', () => {
  it('reads installed packages from dpkg-query and ignores removed or half-installed ones', () => {
    const output = ['docker.io installed', 'galera-4 not-installed', 'haproxy config-files', 'libc6:amd64 installed', ''].join('\n')
    expect([...parseInstalled(output)].sort()).toEqual(['docker.io', 'libc6'])
  })

  it('installs only what is missing, once each', () => {
    expect(missingPackages(['docker.io', 'haproxy', 'galera-4', 'haproxy'], new Set(['docker.io']))).toEqual(['galera-4', 'haproxy'])
    expect(missingPackages(['docker.io'], new Set(['docker.io']))).toEqual([])
  })

  it('builds the exact commands', () => {
    expect(dpkgQueryCommand(['a', 'b'])).toEqual(['dpkg-query', '-W', '-f', '${Package} ${db:Status-Status}\\n', 'a', 'b'])
    expect(aptInstallCommand(['haproxy'])).toEqual(['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'haproxy'])
  })
})
