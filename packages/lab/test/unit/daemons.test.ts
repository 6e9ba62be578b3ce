import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {asHostDaemon, inNetns} from '../../src/daemon.js'
import {dockerdCommand} from '../../src/dockerd.js'
import {ensureRootHome, hostKeygenCommand, knownHostsText, sshdCommand, sshdConfig} from '../../src/sshd.js'
import {labInstance} from '../../src/instance.js'
import {labHost} from '../../src/types.js'

const h1 = labHost(1)

describe('lab daemons', () => {
  it('enter only the network namespace (ip netns exec would hide the cgroup mounts)', () => {
    expect(inNetns('ctl-lab-h1', ['true'])).toEqual(['nsenter', '--net=/run/netns/ctl-lab-h1', 'true'])
  })

  it('run with the host name as hostname, passed as an argument and never as shell text', () => {
    expect(asHostDaemon({netns: 'ctl-lab-h2', name: 'h2'}, ['prog', '--flag', "a b'c"])).toEqual([
      'nsenter',
      '--net=/run/netns/ctl-lab-h2',
      'unshare',
      '--uts',
      '--',
      'sh',
      '-c',
      'hostname "$1" && shift && exec "$@"',
      'sh',
      'h2',
      'prog',
      '--flag',
      "a b'c",
    ])
  })

  it('start sshd with the host config and its own log', () => {
    expect(sshdCommand(h1).slice(-5)).toEqual(['/usr/sbin/sshd', '-f', '/var/lib/ctl-lab/h1/sshd_config', '-E', '/var/lib/ctl-lab/h1/sshd.log'])
  })

  it("start sshd in a mount namespace of its own with the host's root home bound on /root, passed as an argument", () => {
    expect(sshdCommand(h1).slice(0, 12)).toEqual([
      'nsenter',
      '--net=/run/netns/ctl-lab-h1',
      'unshare',
      '--uts',
      '--mount',
      '--propagation',
      'slave',
      '--',
      'sh',
      '-c',
      'hostname "$1" && shift && while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 1; shift 2; done && shift && exec "$@"',
      'sh',
    ])
    expect(sshdCommand(h1).slice(12, 17)).toEqual(['h1', '/var/lib/ctl-lab/h1/root', '/root', '--', '/usr/sbin/sshd'])
    expect(hostKeygenCommand(h1)).toEqual(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'ctl-lab-h1', '-f', '/var/lib/ctl-lab/h1/ssh_host_ed25519_key'])
  })

  it('start dockerd with paths of its own, so several engines share the machine', () => {
    expect(dockerdCommand(labHost(3, labInstance('2'))).slice(10)).toEqual([
      'dockerd',
      '--data-root',
      '/var/lib/ctl-lab2/h3/docker',
      '--exec-root',
      '/run/ctl-lab2/h3/docker-exec',
      '-H',
      'unix:///run/ctl-lab2/h3/docker.sock',
      '--pidfile',
      '/run/ctl-lab2/h3/docker.pid',
      '--storage-driver',
      'vfs',
      '--cgroup-parent',
      '/ctl-lab2-h3',
      '--bip',
      '198.19.0.1/24',
      '--default-address-pool',
      'base=198.19.128.0/17,size=24',
    ])
  })
})

describe('sshdConfig', () => {
  const config = sshdConfig(h1).split('\n')

  it('allows only key logins for root with the lab key', () => {
    expect(config).toEqual(
      expect.arrayContaining([
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'AuthorizedKeysFile /var/lib/ctl-lab/h1/authorized_keys .ssh/authorized_keys',
      ]),
    )
  })

  it('uses the host key, pid file and address of this host', () => {
    expect(config).toEqual(
      expect.arrayContaining([
        'ListenAddress 198.18.0.11',
        'HostKey /var/lib/ctl-lab/h1/ssh_host_ed25519_key',
        'PidFile /run/ctl-lab/h1/sshd.pid',
        'SetEnv DOCKER_HOST=unix:///run/ctl-lab/h1/docker.sock',
      ]),
    )
  })
})

describe('ensureRootHome', () => {
  it("seeds root's home from skel and the lab key, and keeps what the host changed since", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-home-'))
    const skel = join(dir, 'skel')
    mkdirSync(skel)
    writeFileSync(join(skel, '.bashrc'), '# debian default\n')
    const host = {...h1, stateDir: join(dir, 'h1')}
    ensureRootHome(host, 'ssh-ed25519 AAAAkey lab', skel)
    const home = join(dir, 'h1', 'root')
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).toBe('# debian default\n')
    expect(readFileSync(join(home, '.ssh', 'authorized_keys'), 'utf8')).toBe('ssh-ed25519 AAAAkey lab\n')
    expect(statSync(join(home, '.ssh')).mode & 0o777).toBe(0o700)
    expect(statSync(join(home, '.ssh', 'authorized_keys')).mode & 0o777).toBe(0o600)
    writeFileSync(join(home, '.bashrc'), '# changed on the host\n')
    ensureRootHome(host, 'ssh-ed25519 AAAAkey lab', skel)
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).toBe('# changed on the host\n')
    rmSync(dir, {recursive: true, force: true})
  })
})

describe('knownHostsText', () => {
  it('writes one line per host address without the key comment', () => {
    expect(
      knownHostsText([
        {address: '198.18.0.11', publicKey: 'ssh-ed25519 AAAAC3one ctl-lab-h1'},
        {address: '198.18.0.12', publicKey: 'ssh-ed25519 AAAAC3two'},
      ]),
    ).toBe('198.18.0.11 ssh-ed25519 AAAAC3one\n198.18.0.12 ssh-ed25519 AAAAC3two\n')
  })
})
