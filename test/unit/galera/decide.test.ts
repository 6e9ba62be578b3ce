import {describe, expect, it} from 'vitest'
import {chooseBootstrapNode, decideRecovery, primaryPosition, rejoinStanding, type RejoinStanding} from '../../../src/galera/decide.js'
import type {NodeFacts, WsrepStatus} from '../../../src/galera/facts.js'

const U = '5f2b7c3e-1a2b-11ef-9a6e-8f1c2d3e4f50'
const OTHER = '7a7a7a7a-1a2b-11ef-9a6e-8f1c2d3e4f50'

/** A stopped member: `seqno` in grastate (clean stop) or recovered (crash: grastate -1). */
function stopped(node: string, seqno: number, opts: {crash?: boolean; safe?: boolean; uuid?: string} = {}): NodeFacts {
  const uuid = opts.uuid ?? U
  return opts.crash
    ? {node, reachable: true, running: false, grastate: {uuid, seqno: -1, safeToBootstrap: false}, recovered: {uuid, seqno}}
    : {node, reachable: true, running: false, grastate: {uuid, seqno, safeToBootstrap: Boolean(opts.safe)}}
}
function running(node: string, status: Partial<WsrepStatus>): NodeFacts {
  return {
    node,
    reachable: true,
    running: true,
    grastate: {uuid: U, seqno: -1, safeToBootstrap: false},
    status: {clusterStatus: 'Primary', clusterSize: 3, localState: 'Synced', clusterUuid: U, lastCommitted: 50, ready: true, ...status},
  }
}
const lost = (node: string): NodeFacts => ({node, reachable: false, running: false, error: 'connect ECONNREFUSED'})

describe('chooseBootstrapNode', () => {
  it.each<[string, NodeFacts[], string]>([
    ['safe_to_bootstrap wins after a clean shutdown', [stopped('h1', 10), stopped('h2', 12, {safe: true}), stopped('h3', 11)], 'h2'],
    ['highest recovered seqno after a crash', [stopped('h1', 10, {crash: true}), stopped('h2', 12, {crash: true}), stopped('h3', 11, {crash: true})], 'h2'],
    ['the most advanced need not be first', [stopped('h1', 3, {crash: true}), stopped('h2', 3, {crash: true}), stopped('h3', 9, {crash: true})], 'h3'],
    ['ties go to inventory order', [stopped('h1', 5, {crash: true}), stopped('h2', 9, {crash: true}), stopped('h3', 9, {crash: true})], 'h2'],
    [
      'a stale safe_to_bootstrap loses to a node further ahead',
      [stopped('h1', 4, {safe: true}), stopped('h2', 8, {crash: true}), stopped('h3', 6, {crash: true})],
      'h2',
    ],
    [
      'a stuck running member counts by its last committed seqno',
      [
        stopped('h1', 5, {crash: true}),
        running('h2', {clusterStatus: 'non-Primary', lastCommitted: 7, localState: 'Initialized', clusterSize: 1}),
        stopped('h3', 7, {crash: true}),
      ],
      'h2',
    ],
  ])('%s', (_name, facts, expected) => {
    expect(chooseBootstrapNode(facts)?.node).toBe(expected)
  })
})

describe('decideRecovery', () => {
  it('does nothing on a healthy cluster', () => {
    expect(decideRecovery([running('h1', {}), running('h2', {}), running('h3', {})])).toMatchObject({action: 'none'})
  })

  it('never bootstraps while two members stay Primary: the lost one rejoins', () => {
    const d = decideRecovery([running('h1', {clusterSize: 2}), running('h2', {clusterSize: 2}), stopped('h3', 40, {crash: true})])
    expect(d).toMatchObject({action: 'rejoin', primary: ['h1', 'h2'], stop: [], start: ['h3'], clusterUuid: U})
    expect(d.action === 'rejoin' && d.startPositions).toEqual({h3: {uuid: U, seqno: 40}})
  })

  it('restarts a member running outside the Primary component', () => {
    const d = decideRecovery([
      running('h1', {clusterSize: 2}),
      running('h2', {clusterSize: 2}),
      running('h3', {clusterStatus: 'non-Primary', clusterSize: 1, localState: 'Initialized', lastCommitted: 45}),
    ])
    expect(d).toMatchObject({action: 'rejoin', stop: ['h3'], start: ['h3']})
  })

  it('bootstraps the most advanced after a crash and hands every member its start position', () => {
    const d = decideRecovery([stopped('h1', 10, {crash: true}), stopped('h2', 12, {crash: true}), stopped('h3', 11, {crash: true})])
    expect(d).toMatchObject({action: 'bootstrap', bootstrapNode: 'h2', start: ['h1', 'h3'], stop: [], clusterUuid: U})
    expect(d.action === 'bootstrap' && d.startPositions).toEqual({h1: {uuid: U, seqno: 10}, h2: {uuid: U, seqno: 12}, h3: {uuid: U, seqno: 11}})
  })

  it('after a staggered crash stops the stuck members and bootstraps the most advanced', () => {
    const stuck = (n: string) => running(n, {clusterStatus: 'non-Primary', clusterSize: 1, localState: 'Initialized', lastCommitted: 60})
    const d = decideRecovery([stopped('h1', 20, {crash: true}), stuck('h2'), stuck('h3')])
    expect(d).toMatchObject({action: 'bootstrap', bootstrapNode: 'h2', stop: ['h2', 'h3'], start: ['h1', 'h3']})
  })

  it('refuses when a member cannot be reached', () => {
    const d = decideRecovery([stopped('h1', 10, {crash: true}), stopped('h2', 12, {crash: true}), lost('h3')])
    expect(d).toMatchObject({action: 'refuse', code: 'galera.unreachable'})
    expect(d.action === 'refuse' && d.reason).toContain('h3')
  })

  it('with --allow-unreachable goes on without it and says so', () => {
    const d = decideRecovery([stopped('h1', 10, {crash: true}), stopped('h2', 12, {crash: true}), lost('h3')], {allowUnreachable: true})
    expect(d).toMatchObject({action: 'bootstrap', bootstrapNode: 'h2', start: ['h1'], skipped: ['h3']})
  })

  it('refuses when members disagree on the cluster uuid', () => {
    const d = decideRecovery([stopped('h1', 10), stopped('h2', 12, {uuid: OTHER}), stopped('h3', 11)])
    expect(d).toMatchObject({action: 'refuse', code: 'galera.uuid-mismatch'})
    expect(d.action === 'refuse' && d.reason).toContain(`${OTHER} (h2)`)
  })

  it('refuses when a crashed member has no recovered position', () => {
    const d = decideRecovery([
      stopped('h1', 10),
      {node: 'h2', reachable: true, running: false, grastate: {uuid: U, seqno: -1, safeToBootstrap: false}},
      stopped('h3', 11),
    ])
    expect(d).toMatchObject({action: 'refuse', code: 'galera.position-unknown'})
  })

  it('lets a fresh member join by state transfer, never bootstrap from it', () => {
    const fresh: NodeFacts = {node: 'h1', reachable: true, running: false, recovered: {uuid: '00000000-0000-0000-0000-000000000000', seqno: -1}}
    const d = decideRecovery([fresh, stopped('h2', 3, {crash: true}), stopped('h3', 2, {crash: true})])
    expect(d).toMatchObject({action: 'bootstrap', bootstrapNode: 'h2', start: ['h1', 'h3']})
  })
})

describe('decideRecovery with a member that runs but does not answer SQL', () => {
  const silent: NodeFacts = {
    node: 'h3',
    reachable: true,
    running: true,
    sqlError: "Can't connect to local server",
    grastate: {uuid: U, seqno: -1, safeToBootstrap: false},
  }
  it('waits for it while a Primary component exists (it may be receiving a state transfer)', () => {
    const d = decideRecovery([running('h1', {clusterSize: 2}), running('h2', {clusterSize: 2}), silent])
    expect(d).toMatchObject({action: 'rejoin', stop: [], start: ['h3']})
  })
})

describe('rejoinStanding: a member against the Primary component it would rejoin (at seqno 50)', () => {
  const at = {uuid: U, seqno: 50}
  const fresh: NodeFacts = {node: 'h3', reachable: true, running: false, recovered: {uuid: '00000000-0000-0000-0000-000000000000', seqno: -1}}
  const joining: NodeFacts = {node: 'h3', reachable: true, running: true, sqlError: "Can't connect"}
  const unknown: NodeFacts = {node: 'h3', reachable: true, running: false, grastate: {uuid: U, seqno: -1, safeToBootstrap: false}}
  it.each<[string, NodeFacts, RejoinStanding]>([
    ['crashed behind (recovered seqno lower)', stopped('h3', 40, {crash: true}), 'behind'],
    ['stopped cleanly at the same seqno', stopped('h3', 50), 'behind'],
    ['crashed ahead (recovered seqno higher)', stopped('h3', 57, {crash: true}), 'ahead'],
    ['stopped cleanly ahead (grastate seqno higher)', stopped('h3', 51, {safe: true}), 'ahead'],
    ['running outside the Primary, ahead by its last committed', running('h3', {clusterStatus: 'non-Primary', clusterSize: 1, lastCommitted: 53}), 'ahead'],
    ['another cluster uuid, even at a lower seqno', stopped('h3', 10, {uuid: OTHER}), 'other-history'],
    ['position unknown (recovery failed or not run): never behind', unknown, 'unknown'],
    ['fresh datadir: holds nothing', fresh, 'fresh'],
    ['running without answering SQL: already joining', joining, 'joining'],
  ])('%s', (_name, facts, expected) => {
    expect(rejoinStanding(facts, at)).toBe(expected)
  })

  it('the Primary position is the highest seqno its members committed', () => {
    expect(primaryPosition([running('h1', {lastCommitted: 48}), running('h2', {lastCommitted: 50})])).toEqual({uuid: U, seqno: 50})
  })
})

describe('decideRecovery never rejoins a member that would lose data', () => {
  const primary = [running('h2', {clusterSize: 2, lastCommitted: 52}), running('h3', {clusterSize: 2, lastCommitted: 52})]

  it('refuses a stopped member ahead of the Primary, naming both positions and the options', () => {
    const d = decideRecovery([stopped('h1', 57, {crash: true}), ...primary])
    expect(d).toMatchObject({action: 'refuse', code: 'galera.member-ahead'})
    if (d.action !== 'refuse') throw new Error('not refused')
    expect(d.reason).toContain(`h1 at ${U}:57, the Primary at ${U}:52`)
    expect(d.reason).toContain('discard the 5 transaction(s) only h1 has')
    expect(d.hint).toContain("keep h1's transactions: stop h2, h3")
    expect(d.hint).toContain("discard them: move h1's datadir aside")
  })

  it('refuses a member running outside the Primary that is ahead, before stopping it', () => {
    const d = decideRecovery([running('h1', {clusterStatus: 'non-Primary', clusterSize: 1, localState: 'Initialized', lastCommitted: 60}), ...primary])
    expect(d).toMatchObject({action: 'refuse', code: 'galera.member-ahead'})
  })

  it('refuses a stopped member whose position is unknown (not treated as behind)', () => {
    const d = decideRecovery([{node: 'h1', reachable: true, running: false, grastate: {uuid: U, seqno: -1, safeToBootstrap: false}}, ...primary])
    expect(d).toMatchObject({action: 'refuse', code: 'galera.position-unknown'})
    expect(d.action === 'refuse' && d.reason).toContain('may be ahead of the Primary component (h2, h3')
  })

  it('refuses a member from another cluster history', () => {
    const d = decideRecovery([stopped('h1', 10, {uuid: OTHER}), ...primary])
    expect(d).toMatchObject({action: 'refuse', code: 'galera.uuid-mismatch'})
  })

  it('refuses separate Primary components (one member Primary alone next to a bootstrapped pair)', () => {
    const d = decideRecovery([running('h1', {clusterSize: 1, lastCommitted: 57}), ...primary])
    expect(d).toMatchObject({action: 'refuse', code: 'galera.split-brain'})
    expect(d.action === 'refuse' && d.reason).toContain(`h1 (size 1, at ${U}:57), h2 (size 2, at ${U}:52)`)
  })

  it('rejoins a member at or behind the Primary, and a fresh one', () => {
    expect(decideRecovery([stopped('h1', 52), ...primary])).toMatchObject({action: 'rejoin', start: ['h1']})
    const fresh: NodeFacts = {node: 'h1', reachable: true, running: false}
    expect(decideRecovery([fresh, ...primary])).toMatchObject({action: 'rejoin', start: ['h1']})
  })
})
