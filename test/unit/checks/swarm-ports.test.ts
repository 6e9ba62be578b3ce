import {describe, expect, it} from 'vitest'
import {closedProbes, judgeSwarmPorts, portProbeScript, swarmPortProbes} from '../../../src/checks/all/swarm-ports.js'
import type {InventoryNode} from '../../../src/inventory/schema/index.js'

const node = (name: string, address: string, role: InventoryNode['role']): InventoryNode => ({name, address, role, labels: {}})
const nodes = [node('m1', '10.0.0.1', 'manager'), node('w1', '10.0.0.2', 'worker'), node('x', '10.0.0.3', 'none')]

describe('swarmPortProbes', () => {
  it('probes 2377 only on managers, 7946 and 4789 on every other Swarm node, nothing on non-Swarm hosts', () => {
    expect(swarmPortProbes(nodes[1]!, nodes).map((p) => `${p.peer} ${p.port}/${p.proto}`)).toEqual(['m1 2377/tcp', 'm1 7946/tcp', 'm1 7946/udp', 'm1 4789/udp'])
    expect(swarmPortProbes(nodes[0]!, nodes).map((p) => `${p.peer} ${p.port}/${p.proto}`)).toEqual(['w1 7946/tcp', 'w1 7946/udp', 'w1 4789/udp'])
  })
})

describe('portProbeScript', () => {
  it('probes with bash /dev/tcp and /dev/udp (no rc files, stdin closed), addresses passed as arguments, all in parallel', () => {
    const probes = swarmPortProbes(nodes[1]!, nodes).slice(0, 3)
    expect(portProbeScript(probes).script).toBe(
      [
        'command -v bash >/dev/null || exit 127',
        `(timeout 2 bash --norc --noprofile -c 'exec 3<>/dev/tcp/$1/$2' probe 10.0.0.1 2377 </dev/null 2>/dev/null; echo "$? tcp 10.0.0.1 2377") &`,
        `(timeout 2 bash --norc --noprofile -c 'exec 3<>/dev/tcp/$1/$2' probe 10.0.0.1 7946 </dev/null 2>/dev/null; echo "$? tcp 10.0.0.1 7946") &`,
        `(timeout 2 bash --norc --noprofile -c 'exec 3<>/dev/udp/$1/$2 && printf x >&3 && sleep 0.3 && printf x >&3' probe 10.0.0.1 7946 </dev/null 2>/dev/null; echo "$? udp 10.0.0.1 7946") &`,
        'wait',
      ].join('\n'),
    )
  })
})

describe('judgeSwarmPorts', () => {
  it('fails naming each closed port, its peer and whether it was refused or unanswered', () => {
    const probes = swarmPortProbes(nodes[1]!, nodes)
    const closed = closedProbes('0 tcp 10.0.0.1 2377\n1 udp 10.0.0.1 4789\n124 tcp 10.0.0.1 7946\n0 udp 10.0.0.1 7946\n', probes)
    const finding = judgeSwarmPorts('w1', probes, closed)
    expect(finding.status).toBe('fail')
    expect(finding.detail).toBe('from w1, not reachable: m1 7946/tcp (no answer), m1 4789/udp (refused)')
    expect(
      judgeSwarmPorts('w1', probes, closedProbes('0 tcp 10.0.0.1 2377\n0 tcp 10.0.0.1 7946\n0 udp 10.0.0.1 7946\n0 udp 10.0.0.1 4789\n', probes)).status,
    ).toBe('pass')
  })
})
