import {describe, expect, it} from 'vitest'
import {decideFailover, decideSwitchover, failoverRiskText, judgeCandidates} from '../../../src/patroni/decide.js'
import {clusterJson, factsFrom, replicationJson, withMember} from './fixtures.js'

const MAX = 1048576
const lagging = [{...replicationJson[0]!}, {...replicationJson[1]!, replay_lag_bytes: 5 * 1048576}]

describe('judgeCandidates', () => {
  it('lists each replica with the reason it may not take over', () => {
    const facts = factsFrom({cluster: withMember('pg-h3', {state: 'running'}), replication: lagging})
    expect(judgeCandidates(facts, MAX)).toEqual([
      {member: 'pg-h2', eligible: true, reason: undefined, replayLagBytes: 0},
      {member: 'pg-h3', eligible: false, reason: 'it lags 5.0 MiB, more than the 1.0 MiB the inventory allows (maxLagBytes)', replayLagBytes: 5242880},
    ])
  })
})

describe('decideSwitchover', () => {
  const cases: Array<[string, Parameters<typeof factsFrom>[0], string | undefined, unknown]> = [
    ['a streaming replica within the lag limit', {}, 'pg-h2', {ok: true, leader: 'pg-h1', candidate: 'pg-h2'}],
    [
      'a lagging replica',
      {replication: lagging},
      'pg-h3',
      {
        ok: false,
        code: 'patroni.candidate-refused',
        reason: 'pg-h3 cannot take over: it lags 5.0 MiB, more than the 1.0 MiB the inventory allows (maxLagBytes)',
      },
    ],
    [
      'a replica Patroni calls running that does not stream',
      {replication: [replicationJson[0]!]},
      'pg-h3',
      {ok: false, reason: "pg-h3 cannot take over: it is not streaming (not in the leader's pg_stat_replication)"},
    ],
    [
      'a replica in catchup',
      {replication: [replicationJson[0]!, {...replicationJson[1]!, state: 'catchup'}]},
      'pg-h3',
      {ok: false, reason: 'pg-h3 cannot take over: it is not streaming (pg_stat_replication state: catchup)'},
    ],
    [
      'a stopped replica',
      {cluster: withMember('pg-h3', {state: 'stopped', lag: 'unknown'}), statuses: {'pg-h3': null}, replication: [replicationJson[0]!]},
      'pg-h3',
      {ok: false, reason: 'pg-h3 cannot take over: its Patroni API does not answer (state stopped)'},
    ],
    [
      'a nofailover replica',
      {cluster: withMember('pg-h2', {tags: {nofailover: true}})},
      'pg-h2',
      {ok: false, reason: 'pg-h2 cannot take over: it is tagged nofailover'},
    ],
    ['the leader itself', {}, 'pg-h1', {ok: false, code: 'patroni.candidate-is-leader'}],
    ['an unknown member', {}, 'pg-h9', {ok: false, code: 'patroni.unknown-member'}],
    ['a paused cluster', {cluster: {...clusterJson, pause: true}}, 'pg-h2', {ok: false, code: 'patroni.paused'}],
    ['a dead leader', {statuses: {'pg-h1': null}, replication: null}, 'pg-h2', {ok: false, code: 'patroni.leader-down'}],
    ['no leader at all', {cluster: withMember('pg-h1', {role: 'replica'})}, 'pg-h2', {ok: false, code: 'patroni.no-leader'}],
    [
      'pg_stat_replication unreadable',
      {replication: null, replicationError: 'password authentication failed'},
      'pg-h2',
      {ok: false, code: 'patroni.replication-unknown'},
    ],
    [
      'a switchover already scheduled',
      {cluster: {...clusterJson, scheduled_switchover: {at: '2030-01-01T00:00:00+00:00', from: 'pg-h1'}}},
      'pg-h2',
      {ok: false, code: 'patroni.already-scheduled'},
    ],
  ]
  it.each(cases)('%s', (_name, facts, candidate, expected) => {
    expect(decideSwitchover(factsFrom(facts), candidate, MAX)).toMatchObject(expected as object)
  })

  it('without a candidate, offers the choices (the prompt lists only eligible ones)', () => {
    const decision = decideSwitchover(factsFrom({replication: lagging}), undefined, MAX)
    expect(decision).toMatchObject({ok: 'choose', leader: 'pg-h1'})
    expect((decision as {choices: {member: string; eligible: boolean}[]}).choices.map((c) => [c.member, c.eligible])).toEqual([
      ['pg-h2', true],
      ['pg-h3', false],
    ])
  })
})

describe('decideFailover', () => {
  const deadLeader = {statuses: {'pg-h1': null}, replication: null}
  it('refuses while the leader is healthy', () => {
    expect(decideFailover(factsFrom(), 'pg-h2')).toMatchObject({ok: false, code: 'patroni.leader-healthy'})
  })

  it('promotes a running replica when the leader is dead, saying what may be lost', () => {
    const facts = factsFrom({...deadLeader, cluster: withMember('pg-h2', {lag: 4096})})
    const decision = decideFailover(facts, 'pg-h2')
    expect(decision).toEqual({ok: true, candidate: 'pg-h2', deadLeader: 'pg-h1', mayLoseBytes: 4096, lessLagging: ['pg-h3']})
    expect(failoverRiskText(decision as Extract<typeof decision, {ok: true}>)).toBe(
      'Promote pg-h2: transactions that reached pg-h1 but not pg-h2 are lost, up to 4.0 KiB of WAL (its lag). Note: pg-h3 lag(s) less.',
    )
  })

  it('says when the loss is unknown', () => {
    const decision = decideFailover(factsFrom({...deadLeader, cluster: withMember('pg-h2', {lag: 'unknown'})}), 'pg-h2')
    expect(failoverRiskText(decision as Extract<typeof decision, {ok: true}>)).toContain('an unknown amount of WAL')
  })

  it.each([
    ['a stopped candidate', {...deadLeader, statuses: {'pg-h1': null, 'pg-h2': {state: 'stopped', role: 'replica'}}}, 'pg-h2', 'patroni.candidate-down'],
    ['an unreachable candidate', {...deadLeader, statuses: {'pg-h1': null, 'pg-h2': null}}, 'pg-h2', 'patroni.candidate-down'],
    ['an unknown candidate', deadLeader, 'pg-h7', 'patroni.unknown-member'],
    ['a nofailover candidate', {...deadLeader, cluster: withMember('pg-h2', {tags: {nofailover: true}})}, 'pg-h2', 'patroni.candidate-nofailover'],
  ])('refuses %s', (_name, facts, candidate, code) => {
    expect(decideFailover(factsFrom(facts), candidate)).toMatchObject({ok: false, code})
  })
})
