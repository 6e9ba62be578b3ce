import {describe, expect, it} from 'vitest'
import {chooseBackupSource} from '../../../src/patroni/backup-source.js'
import {factsFrom, replicationJson} from './fixtures.js'

const MAX = 1048576

describe('chooseBackupSource', () => {
  it('takes the streaming replica with the least replay lag', () => {
    const facts = factsFrom({
      replication: [
        {...replicationJson[0]!, replay_lag_bytes: 500},
        {...replicationJson[1]!, replay_lag_bytes: 20},
      ],
    })
    expect(chooseBackupSource(facts, {fromReplica: true, maxLagBytes: MAX})).toMatchObject({ok: true, member: 'pg-h3', role: 'replica'})
  })

  it('skips replicas that do not stream or lag too much, falling back to the leader', () => {
    const facts = factsFrom({
      replication: [
        {...replicationJson[0]!, state: 'catchup'},
        {...replicationJson[1]!, replay_lag_bytes: 2 * MAX},
      ],
    })
    expect(chooseBackupSource(facts, {fromReplica: true, maxLagBytes: MAX})).toMatchObject({ok: true, member: 'pg-h1', role: 'leader'})
  })

  it('uses the leader when the inventory forbids replicas', () => {
    expect(chooseBackupSource(factsFrom(), {fromReplica: false, maxLagBytes: MAX})).toMatchObject({
      ok: true,
      member: 'pg-h1',
      role: 'leader',
      why: 'backupFromReplica is false in the inventory',
    })
  })

  it('refuses without a healthy leader or streaming replica', () => {
    expect(chooseBackupSource(factsFrom({statuses: {'pg-h1': null}, replication: null}), {fromReplica: true, maxLagBytes: MAX})).toMatchObject({ok: false})
  })
})
