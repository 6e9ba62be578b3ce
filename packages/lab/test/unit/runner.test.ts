import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseInventory} from 'ctl/inventory/load.js'
import {labHosts, labInstance} from '../../src/instance.js'
import {labInventoryYaml} from '../../src/lab-inventory.js'
import {labUnsupportedReason} from '../../src/platform.js'
import {selectComponents} from '../../src/runner.js'
import {labHost, type LabComponent} from '../../src/types.js'

const root = join(import.meta.dirname, '..', '..', '..', '..')
const component = (name: string): LabComponent => ({name, packages: [], up: async () => {}, down: async () => {}, status: async () => []})
const all = ['hosts', 'docker', 'galera', 'patroni'].map(component)

describe('selectComponents', () => {
  it('keeps start order whatever order --only names them in', () => {
    expect(selectComponents(all, {docker: true}).map((c) => c.name)).toEqual(['hosts', 'docker', 'galera', 'patroni'])
    expect(selectComponents(all, {docker: true, only: ['patroni', 'docker']}).map((c) => c.name)).toEqual(['docker', 'patroni'])
  })

  it('makes sshd-only hosts with --no-docker', () => {
    expect(selectComponents(all, {docker: false}).map((c) => c.name)).toEqual(['hosts'])
    expect(selectComponents(all, {docker: false, only: ['galera']})).toEqual([])
  })

  it('refuses an unknown component and names the known ones', () => {
    expect(() => selectComponents(all, {docker: true, only: ['galera', 'vaul']})).toThrow(/No lab component named vaul/)
  })
})

describe('labInventoryYaml', () => {
  const inventoryOf = (text: string, file: string) => {
    const {inventory, problems} = parseInventory(text, file)
    expect(problems).toEqual([])
    return inventory!
  }

  it('describes the default three hosts exactly as inventories/lab.yml does', () => {
    const file = join(root, 'inventories', 'lab.yml')
    const generated = labInventoryYaml({
      name: 'lab',
      file,
      keyFile: join(root, '.lab', 'id_ed25519'),
      knownHostsFile: join(root, '.lab', 'known_hosts'),
      hosts: labHosts(3),
      docker: true,
    })
    const committed = inventoryOf(readFileSync(file, 'utf8'), file)
    const ours = inventoryOf(generated, file)
    // Beside them, the shared lab's backup host: outside the Swarm, at the next host address.
    const [backupHost, ...others] = committed.nodes.filter((n) => n.name === 'h4')
    expect(others).toEqual([])
    expect(backupHost).toMatchObject({address: labHost(4).address, role: 'none'})
    expect(ours.nodes).toEqual(committed.nodes.filter((n) => n !== backupHost))
    expect(ours.ssh).toEqual(committed.ssh)
    expect(ours.swarm.defaultAddrPool).toBe(committed.swarm.defaultAddrPool)
  })

  it('writes sshd-only hosts of another instance with paths relative to the file', () => {
    const file = '/p/.lab/lab4-30.yml'
    const inventory = inventoryOf(
      labInventoryYaml({
        name: 'lab4',
        file,
        keyFile: '/p/.lab/id_ed25519',
        knownHostsFile: '/p/.lab/known_hosts-lab4',
        hosts: labHosts(30, labInstance('4')),
        docker: false,
      }),
      file,
    )
    expect(inventory.nodes).toHaveLength(30)
    expect(inventory.nodes[29]).toMatchObject({name: 'h30', address: '198.18.4.40', role: 'none'})
    expect(inventory.ssh).toMatchObject({key: 'id_ed25519', knownHosts: 'known_hosts-lab4'})
  })
})

describe('labUnsupportedReason', () => {
  it.each([
    ['linux', 0, undefined],
    ['linux', 1000, 'the lab needs root (it creates network namespaces, links and daemons)'],
    ['darwin', 0, 'the lab needs Linux (network namespaces), this is darwin'],
  ] as const)('%s uid %s', (platform, uid, reason) => {
    expect(labUnsupportedReason(platform, uid)).toBe(reason)
  })
})
