import {describe, expect, it} from 'vitest'
import {batchNetworkActions, parseIpAddr, planNetwork, type HostNetworkFacts, type LinkFacts, type NetworkFacts} from '../../src/network.js'
import {labHost, DEFAULT_LAB_INSTANCE} from '../../src/types.js'

const hosts = [labHost(1), labHost(2)]
const up = (addresses: string[] = [], master?: string): LinkFacts => ({exists: true, up: true, addresses, master})
const missing: LinkFacts = {exists: false, up: false, addresses: []}
const healthy = (i: number): HostNetworkFacts => ({netnsExists: true, veth: up([], 'ctllab0'), eth0: up([`198.18.0.${10 + i}/24`]), loUp: true})
const healthyLab = (): NetworkFacts => ({bridge: up(['198.18.0.1/24']), hosts: {h1: healthy(1), h2: healthy(2)}})

describe('planNetwork', () => {
  it('builds the whole network from nothing', () => {
    const plan = planNetwork(DEFAULT_LAB_INSTANCE, [labHost(1)], {bridge: missing, hosts: {}})
    expect(plan.map((a) => a.argv.join(' '))).toEqual([
      'ip link add ctllab0 type bridge',
      'ip addr add 198.18.0.1/24 dev ctllab0',
      'ip link set ctllab0 up',
      'ip netns add ctl-lab-h1',
      'ip link add ctllab0h1 type veth peer name eth0 netns ctl-lab-h1',
      'ip link set ctllab0h1 master ctllab0',
      'ip link set ctllab0h1 up',
      'ip -n ctl-lab-h1 addr add 198.18.0.11/24 dev eth0',
      'ip -n ctl-lab-h1 link set eth0 up',
      'ip -n ctl-lab-h1 link set lo up',
    ])
  })

  it('changes nothing on a healthy lab', () => {
    expect(planNetwork(DEFAULT_LAB_INSTANCE, hosts, healthyLab())).toEqual([])
  })

  it.each([
    ['a link cut by node-down', (f: NetworkFacts) => (f.hosts.h2!.veth.up = false), ['ip link set ctllab0h2 up']],
    ['a lost address', (f: NetworkFacts) => (f.hosts.h1!.eth0.addresses = []), ['ip -n ctl-lab-h1 addr add 198.18.0.11/24 dev eth0']],
    ['a detached veth', (f: NetworkFacts) => (f.hosts.h1!.veth.master = undefined), ['ip link set ctllab0h1 master ctllab0']],
    ['a bridge that is down', (f: NetworkFacts) => (f.bridge.up = false), ['ip link set ctllab0 up']],
    ['loopback down', (f: NetworkFacts) => (f.hosts.h2!.loUp = false), ['ip -n ctl-lab-h2 link set lo up']],
  ])('repairs only %s', (_name, breakIt, expected) => {
    const facts = healthyLab()
    breakIt(facts)
    expect(planNetwork(DEFAULT_LAB_INSTANCE, hosts, facts).map((a) => a.argv.join(' '))).toEqual(expected)
  })

  it('replaces a veth whose namespace is gone (stale leftover of an earlier run)', () => {
    const facts = healthyLab()
    facts.hosts.h2 = {netnsExists: false, veth: up([], 'ctllab0'), eth0: missing, loUp: false}
    expect(planNetwork(DEFAULT_LAB_INSTANCE, hosts, facts).map((a) => a.argv.join(' '))).toEqual([
      'ip netns add ctl-lab-h2',
      'ip link del ctllab0h2',
      'ip link add ctllab0h2 type veth peer name eth0 netns ctl-lab-h2',
      'ip link set ctllab0h2 master ctllab0',
      'ip link set ctllab0h2 up',
      'ip -n ctl-lab-h2 addr add 198.18.0.12/24 dev eth0',
      'ip -n ctl-lab-h2 link set eth0 up',
      'ip -n ctl-lab-h2 link set lo up',
    ])
  })

  it('names every action after its host', () => {
    const plan = planNetwork(DEFAULT_LAB_INSTANCE, hosts, {bridge: up(['198.18.0.1/24']), hosts: {h1: healthy(1)}})
    expect(new Set(plan.map((a) => a.host))).toEqual(new Set(['h2']))
    expect(plan.every((a) => a.description.startsWith('h2: '))).toBe(true)
  })
})

describe('parseIpAddr', () => {
  it('reads state, IPv4 addresses and the bridge a link belongs to', () => {
    const json = JSON.stringify([
      {
        ifname: 'lo',
        flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
        addr_info: [
          {family: 'inet', local: '127.0.0.1', prefixlen: 8},
          {family: 'inet6', local: '::1', prefixlen: 128},
        ],
      },
      {ifname: 'ctllab0h1', flags: ['BROADCAST', 'MULTICAST'], master: 'ctllab0', addr_info: []},
    ])
    expect(parseIpAddr(json)).toEqual({
      lo: {exists: true, up: true, addresses: ['127.0.0.1/8'], master: undefined},
      ctllab0h1: {exists: true, up: false, addresses: [], master: 'ctllab0'},
    })
  })
})

describe('batchNetworkActions', () => {
  it('runs root commands first in plan order, then one batch per namespace', () => {
    const plan = planNetwork(DEFAULT_LAB_INSTANCE, hosts, {bridge: up(['198.18.0.1/24']), hosts: {h1: {...healthy(1), loUp: false}}})
    expect(batchNetworkActions(plan)).toEqual([
      {
        lines: [
          'netns add ctl-lab-h2',
          'link add ctllab0h2 type veth peer name eth0 netns ctl-lab-h2',
          'link set ctllab0h2 master ctllab0',
          'link set ctllab0h2 up',
        ],
      },
      {netns: 'ctl-lab-h1', lines: ['link set lo up']},
      {netns: 'ctl-lab-h2', lines: ['addr add 198.18.0.12/24 dev eth0', 'link set eth0 up', 'link set lo up']},
    ])
  })

  it('has nothing to run for an empty plan', () => {
    expect(batchNetworkActions([])).toEqual([])
  })
})
