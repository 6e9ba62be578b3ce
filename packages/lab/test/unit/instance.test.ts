import {describe, expect, it} from 'vitest'
import {hostIndexOfNetns, knownHostsFile, labHosts, labInstance, labInventoryPath, labLinkPattern} from '../../src/instance.js'
import {DEFAULT_LAB_INSTANCE, labHost} from '../../src/types.js'

describe('labInstance', () => {
  it.each([undefined, '', '0', ' 0 '])('is the shared lab for %j', (value) => {
    expect(labInstance(value)).toBe(DEFAULT_LAB_INSTANCE)
  })

  it('gives instance k its own prefix, bridge, subnet and directories', () => {
    expect(labInstance('7')).toEqual({
      id: 7,
      prefix: 'ctl-lab7',
      bridge: 'ctllab7',
      subnetPrefix: '198.18.7',
      bridgeAddress: '198.18.7.1',
      stateDir: '/var/lib/ctl-lab7',
      runDir: '/run/ctl-lab7',
      inventoryName: 'lab7',
    })
  })

  it.each(['251', '-1', 'x', '1.5'])('refuses %s', (value) => {
    expect(() => labInstance(value)).toThrow(/not a lab instance/)
  })
})

describe('lab hosts', () => {
  it('match inventories/lab.yml for the default instance', () => {
    expect(labHost(2)).toEqual({
      name: 'h2',
      index: 2,
      address: '198.18.0.12',
      netns: 'ctl-lab-h2',
      stateDir: '/var/lib/ctl-lab/h2',
      runDir: '/run/ctl-lab/h2',
      dockerSocket: '/run/ctl-lab/h2/docker.sock',
      veth: 'ctllab0h2',
    })
  })

  it('keep interface names within 15 characters up to 100 hosts of instance 250', () => {
    const hosts = labHosts(100, labInstance('250'))
    expect(hosts.at(-1)!.address).toBe('198.18.250.110')
    expect(Math.max(...hosts.map((h) => h.veth.length))).toBeLessThanOrEqual(15)
  })

  it.each([0, 101, 2.5])('refuses %s hosts', (count) => {
    expect(() => labHosts(count)).toThrow(/1 to 100 hosts/)
  })

  it('recognise only their own instance in namespace names', () => {
    expect(hostIndexOfNetns('ctl-lab-h12', DEFAULT_LAB_INSTANCE)).toBe(12)
    expect(hostIndexOfNetns('ctl-lab1-h2', DEFAULT_LAB_INSTANCE)).toBeUndefined()
    expect(hostIndexOfNetns('ctl-lab-h2', labInstance('1'))).toBeUndefined()
    expect(hostIndexOfNetns('ctl-lab1-h2', labInstance('1'))).toBe(2)
    expect(hostIndexOfNetns('other-h1', DEFAULT_LAB_INSTANCE)).toBeUndefined()
  })
})

describe('lab files', () => {
  it('uses inventories/lab.yml only for the default three-host lab', () => {
    expect(labInventoryPath('/p', DEFAULT_LAB_INSTANCE, 3)).toEqual({path: '/p/inventories/lab.yml', generated: false})
    expect(labInventoryPath('/p', DEFAULT_LAB_INSTANCE, 30)).toEqual({path: '/p/.lab/lab-30.yml', generated: true})
    expect(labInventoryPath('/p', labInstance('4'), 3)).toEqual({path: '/p/.lab/lab4-3.yml', generated: true})
  })

  it('keeps one known_hosts per instance', () => {
    expect(knownHostsFile('/p', DEFAULT_LAB_INSTANCE)).toBe('/p/.lab/known_hosts')
    expect(knownHostsFile('/p', labInstance('4'))).toBe('/p/.lab/known_hosts-lab4')
  })
})

describe('labLinkPattern', () => {
  it("matches the instance's bridge and veths only", () => {
    const links = ['ctllab0', 'ctllab0h1', 'ctllab0h30', 'ctllab1', 'ctllab1h2', 'ctllab11h1', 'eth0', 'ctllab0x']
    expect(links.filter((l) => labLinkPattern(DEFAULT_LAB_INSTANCE).test(l))).toEqual(['ctllab0', 'ctllab0h1', 'ctllab0h30'])
    expect(links.filter((l) => labLinkPattern(labInstance('1')).test(l))).toEqual(['ctllab1', 'ctllab1h2'])
  })
})
