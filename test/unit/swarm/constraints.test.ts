import {describe, expect, it} from 'vitest'
import {matchConstraints, parseConstraint, type PlacementTarget} from '../../../src/swarm/constraints.js'

const node: PlacementTarget = {name: 'app-1', hostname: 'app-1', role: 'worker', labels: {type: 'service', zone: 'Fsn1'}}

describe('placement constraints', () => {
  it.each([
    [['node.labels.type == service'], true],
    [['node.labels.type==service'], true],
    [['node.labels.type == "service"'], true],
    [['node.labels.type == SERVICE'], true],
    [['node.labels.type != service'], false],
    [['node.labels.type == db'], false],
    [['node.labels.missing != x'], true],
    [['node.labels.missing == x'], false],
    [['node.labels.zone == fsn1'], true],
    [['node.role == manager'], false],
    [['node.role != manager', 'node.labels.type == service'], true],
    [['node.hostname == app-1'], true],
    [['node.platform.os == linux'], 'unknown'],
    [['engine.labels.x == y'], 'unknown'],
    [['node.labels.type == ${TYPE}'], 'unknown'],
    [[], true],
  ])('%j → %s', (constraints, expected) => {
    expect(matchConstraints(constraints, node).matches).toBe(expected)
  })

  it('names the constraint that failed', () => {
    expect(matchConstraints(['node.role != manager', 'node.labels.type == db'], node)).toEqual({matches: false, failed: 'node.labels.type == db'})
  })

  it('rejects what the scheduler would reject', () => {
    expect(parseConstraint('node.labels.type = service')).toBeUndefined()
    expect(parseConstraint('node.labels.type ==')).toBeUndefined()
    expect(parseConstraint(' node.role!=manager ')).toEqual({text: ' node.role!=manager ', key: 'node.role', op: '!=', value: 'manager'})
  })
})
