import {describe, expect, it} from 'vitest'
import {factsRows, normalizeRole, parseClusterView, parseMemberStatus} from '../../../src/patroni/facts.js'
import {clusterJson, factsFrom, replicationJson, withMember} from './fixtures.js'

describe('normalizeRole', () => {
  it.each([
    ['leader', 'leader'],
    ['master', 'leader'],
    ['primary', 'leader'],
    ['replica', 'replica'],
    ['sync_standby', 'replica'],
    ['standby_leader', 'standby_leader'],
    [undefined, 'unknown'],
  ])('%s → %s', (role, expected) => expect(normalizeRole(role)).toBe(expected))
})

describe('parseClusterView', () => {
  it('reads members, lag "unknown", pause and a scheduled switchover', () => {
    const view = parseClusterView({
      ...withMember('pg-h3', {lag: 'unknown', state: 'stopped', tags: {nofailover: true}}),
      pause: true,
      scheduled_switchover: {at: '2030-01-01T00:00:00+00:00', from: 'pg-h1', to: 'pg-h3'},
    })
    expect(view.paused).toBe(true)
    expect(view.scheduledSwitchover).toEqual({at: '2030-01-01T00:00:00+00:00', from: 'pg-h1', to: 'pg-h3'})
    expect(view.members.map((m) => [m.name, m.role, m.state, m.lagBytes, m.noFailover])).toEqual([
      ['pg-h1', 'leader', 'running', 0, false],
      ['pg-h2', 'replica', 'running', 0, false],
      ['pg-h3', 'replica', 'stopped', null, true],
    ])
  })
})

describe('parseMemberStatus', () => {
  it("reads a replica's positions and paused replay", () => {
    expect(parseMemberStatus({state: 'running', role: 'replica', timeline: 2, xlog: {received_location: 100, replayed_location: 90, paused: true}})).toEqual({
      reachable: true,
      role: 'replica',
      state: 'running',
      timeline: 2,
      receivedLsn: 100,
      replayedLsn: 90,
      location: undefined,
      replayPaused: true,
      paused: false,
      pendingRestart: false,
    })
  })

  it('reads a restart pending (archive_mode changed)', () => {
    expect(parseMemberStatus({state: 'running', role: 'primary', pending_restart: true}).pendingRestart).toBe(true)
  })
})

describe('combineFacts', () => {
  it('marks replicas streaming only from pg_stat_replication', () => {
    const facts = factsFrom({replication: [replicationJson[0]!]})
    expect(facts.leader).toBe('pg-h1')
    expect(facts.leaderHealthy).toBe(true)
    // pg-h3 is "running" for Patroni but absent from pg_stat_replication: not streaming.
    expect(facts.members.map((m) => [m.name, m.state, m.streaming])).toEqual([
      ['pg-h1', 'running', false],
      ['pg-h2', 'running', true],
      ['pg-h3', 'running', false],
    ])
  })

  it('sees a dead leader: named in the DCS, API silent', () => {
    const facts = factsFrom({statuses: {'pg-h1': null}, replication: null})
    expect(facts.leader).toBe('pg-h1')
    expect(facts.leaderHealthy).toBe(false)
    expect(facts.members[0]).toMatchObject({name: 'pg-h1', reachable: false, role: 'leader'})
  })

  it('a leader whose PostgreSQL is stopped is not healthy', () => {
    expect(factsFrom({statuses: {'pg-h1': {state: 'stopped', role: 'master'}}}).leaderHealthy).toBe(false)
  })

  it('a member missing from /cluster is stopped', () => {
    const facts = factsFrom({cluster: {members: clusterJson.members.filter((m) => m.name !== 'pg-h3')}, statuses: {'pg-h3': null}})
    expect(facts.members[2]).toMatchObject({name: 'pg-h3', state: 'stopped', reachable: false, role: 'unknown'})
  })

  it('renders the members table', () => {
    const rows = factsRows(factsFrom({replication: [{...replicationJson[0]!, replay_lag_bytes: 2048}]}))
    expect(rows).toEqual([
      ['pg-h1', 'h1', 'leader', 'running', '1', '-', '-'],
      ['pg-h2', 'h2', 'replica', 'running', '1', '0 B', 'streaming, replay lag 2.0 KiB'],
      ['pg-h3', 'h3', 'replica', 'running', '1', '0 B', 'NOT streaming'],
    ])
  })
})
