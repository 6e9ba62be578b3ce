import {describe, expect, it} from 'vitest'
import {checkHostModeCapacity, eligibleNodes, nodeMatchesConstraint} from '../../../src/deploy/capacity.js'
import {testInventory} from './fixtures.js'

const nodes = testInventory().nodes

describe('host-mode capacity of start-first rollouts', () => {
  it.each([
    ['node.labels.type == service', ['m1', 'w1', 'w2']],
    ['node.labels.type != service', ['db']],
    ['node.role == manager', ['m1']],
    ['node.hostname == w2', ['w2']],
    ['engine.labels.x == y', ['m1', 'w1', 'w2', 'db']],
  ])('%s matches %j', (constraint, names) => {
    expect(nodes.filter((n) => nodeMatchesConstraint(n, constraint)).map((n) => n.name)).toEqual(names)
  })

  it('leaves out nodes outside the swarm', () => {
    const outside = [...nodes, {...nodes[0]!, name: 'plain', role: 'none' as const}]
    expect(eligibleNodes(outside, []).map((n) => n.name)).toEqual(['m1', 'w1', 'w2', 'db'])
  })

  it.each([
    // replicas, ports, order, parallelism, ok
    [2, [8080], 'start-first', 1, true],
    [3, [8080], 'start-first', 1, false],
    [3, [8080], 'stop-first', 1, true],
    [1, [8080], 'start-first', 2, true],
    [2, [8080], 'start-first', 2, false],
    [3, [], 'start-first', 1, true],
  ] as const)('%i replicas, ports %j, %s by %i → ok=%s', (replicas, ports, order, parallelism, ok) => {
    const verdict = checkHostModeCapacity(
      {replicas, hostPorts: [...ports], constraints: ['node.labels.type == service'], healthcheck: false},
      {order, parallelism},
      nodes,
    )
    expect(verdict.ok).toBe(ok)
    expect(verdict.eligible).toEqual(['m1', 'w1', 'w2'])
    if (!ok) expect(verdict.reason).toMatch(/only 3 match|only 3 node/)
  })
})
