import {describe, expect, it} from 'vitest'
import {
  clusterUuidsOf,
  isFreshMember,
  knownPosition,
  recoverFailureCause,
  needsPositionRecovery,
  parseGrastate,
  parseRecoveredPosition,
  parseWsrepStatus,
  type NodeFacts,
} from '../../../src/galera/facts.js'

const U = '5f2b7c3e-1a2b-11ef-9a6e-8f1c2d3e4f50'

describe('parseGrastate', () => {
  it('reads uuid, seqno and safe_to_bootstrap as mariadbd writes them', () => {
    const text = `# GALERA saved state\nversion: 2.1\nuuid:    ${U}\nseqno:   -1\nsafe_to_bootstrap: 0\n`
    expect(parseGrastate(text)).toEqual({uuid: U, seqno: -1, safeToBootstrap: false})
    expect(parseGrastate(`uuid: ${U}\nseqno: 42\nsafe_to_bootstrap: 1\n`)).toEqual({uuid: U, seqno: 42, safeToBootstrap: true})
  })
  it('returns undefined for no file or garbage', () => {
    expect(parseGrastate('')).toBeUndefined()
    expect(parseGrastate('uuid: nope\nseqno: 1\n')).toBeUndefined()
  })
})

describe('parseRecoveredPosition', () => {
  it('takes the last "Recovered position" line of --wsrep-recover', () => {
    const out = `2026-11-26 12:00:01 0 [Note] WSREP: Recovered position: 00000000-0000-0000-0000-000000000000:-1\n2026-11-26 12:00:01 0 [Note] WSREP: Recovered position: ${U}:1234\n`
    expect(parseRecoveredPosition(out)).toEqual({uuid: U, seqno: 1234})
    expect(parseRecoveredPosition('[ERROR] Aborting')).toBeUndefined()
  })
})

describe('parseWsrepStatus', () => {
  it('reads batch-mode SHOW STATUS output', () => {
    const out = [
      'wsrep_cluster_size\t3',
      'wsrep_cluster_state_uuid\t' + U,
      'wsrep_cluster_status\tPrimary',
      'wsrep_last_committed\t17',
      'wsrep_local_state_comment\tSynced',
      'wsrep_ready\tON',
    ].join('\n')
    expect(parseWsrepStatus(out)).toEqual({clusterStatus: 'Primary', clusterSize: 3, localState: 'Synced', clusterUuid: U, lastCommitted: 17, ready: true})
    expect(parseWsrepStatus('')).toBeUndefined()
  })
})

describe('positions', () => {
  const base: NodeFacts = {node: 'h1', reachable: true, running: false}
  it.each<[string, NodeFacts, ReturnType<typeof knownPosition>]>([
    ['clean stop: grastate', {...base, grastate: {uuid: U, seqno: 9, safeToBootstrap: false}}, {uuid: U, seqno: 9}],
    ['crash: recovered', {...base, grastate: {uuid: U, seqno: -1, safeToBootstrap: false}, recovered: {uuid: U, seqno: 11}}, {uuid: U, seqno: 11}],
    ['crash, not recovered yet', {...base, grastate: {uuid: U, seqno: -1, safeToBootstrap: false}}, undefined],
    [
      'running: last committed',
      {
        ...base,
        running: true,
        status: {clusterStatus: 'non-Primary', clusterSize: 1, localState: 'Initialized', clusterUuid: U, lastCommitted: 30, ready: false},
      },
      {uuid: U, seqno: 30},
    ],
  ])('%s', (_name, facts, expected) => {
    expect(knownPosition(facts)).toEqual(expected)
  })
  it('needs --wsrep-recover only when stopped with seqno -1', () => {
    expect(needsPositionRecovery({...base, grastate: {uuid: U, seqno: -1, safeToBootstrap: false}})).toBe(true)
    expect(needsPositionRecovery({...base, grastate: {uuid: U, seqno: 5, safeToBootstrap: false}})).toBe(false)
    expect(needsPositionRecovery({...base, running: true, grastate: {uuid: U, seqno: -1, safeToBootstrap: false}})).toBe(false)
    expect(needsPositionRecovery({...base, reachable: false})).toBe(false)
  })
  it('knows fresh members and ignores the zero uuid', () => {
    expect(isFreshMember({...base, recovered: {uuid: '00000000-0000-0000-0000-000000000000', seqno: -1}})).toBe(true)
    expect(isFreshMember({...base, grastate: {uuid: U, seqno: -1, safeToBootstrap: false}})).toBe(false)
    expect(clusterUuidsOf({...base, grastate: {uuid: '00000000-0000-0000-0000-000000000000', seqno: -1, safeToBootstrap: false}})).toEqual([])
  })
})

describe('recoverFailureCause', () => {
  it('names an InnoDB assertion as damaged data, a held lock and the first error otherwise', () => {
    const assertion = [
      '2026-12-07 13:04:06 0 [Warning] InnoDB: Skipping buffer pool dump/restore during wsrep recovery.',
      '2026-12-07 13:04:06 0x774ef9fff6c0  InnoDB: Assertion failure in file ./storage/innobase/trx/trx0purge.cc line 901',
      'InnoDB: Failing assertion: tail.trx_no <= last_trx_no',
    ].join('\n')
    expect(recoverFailureCause(assertion)).toEqual({cause: 'InnoDB crash recovery aborted (assertion tail.trx_no <= last_trx_no)', damaged: true})
    expect(recoverFailureCause('[ERROR] InnoDB: Unable to lock ./ibdata1 error: 11')).toEqual({cause: 'another mariadbd holds its data files', damaged: false})
    expect(recoverFailureCause('2026-12-07 0 [ERROR] Aborting')).toEqual({cause: 'Aborting', damaged: false})
    expect(recoverFailureCause('nothing useful')).toBeUndefined()
  })
})
