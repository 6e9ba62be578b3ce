import {describe, expect, it} from 'vitest'
import {jsonFieldIsTrue, judgeServiceHealth, type ServiceFacts} from '../../../src/checks/all/service-health.js'
import {service as serviceSchema} from '../../../src/inventory/schema/services.js'

const legacy = serviceSchema.parse({
  name: 'legacy',
  strategy: 'hosts',
  hosts: ['s1', 's2', 's3'],
  reloadCommand: ['pm2', 'reload', 'app'],
  health: {via: 'host', port: 5000, singleLeaderField: 'batchWriterLeader'},
})
const answer = (host: string, status: number | null, body = '') => ({url: `http://${host}:5000/health`, status, body})
const seed001 = (leader: boolean) => JSON.stringify({status: 'healthy', serverId: 'server-1', services: {redis: true}, batchWriterLeader: leader})
const facts = (over: Partial<ServiceFacts>): ServiceFacts => ({
  env: 'prod',
  service: legacy,
  runsAs: 'hosts s1,s2,s3',
  expectedReplicas: 3,
  runningReplicas: 3,
  answers: [],
  ...over,
})

describe('jsonFieldIsTrue', () => {
  it('reads a top-level or dotted field that is exactly true', () => {
    expect(jsonFieldIsTrue(seed001(true), 'batchWriterLeader')).toBe(true)
    expect(jsonFieldIsTrue(seed001(false), 'batchWriterLeader')).toBe(false)
    expect(jsonFieldIsTrue(seed001(false), 'services.redis')).toBe(true)
    expect(jsonFieldIsTrue('{"batchWriterLeader":"true"}', 'batchWriterLeader')).toBe(false)
    expect(jsonFieldIsTrue('not json', 'batchWriterLeader')).toBe(false)
  })
})

describe('judgeServiceHealth', () => {
  it('passes all replicas healthy with exactly one batch-writer leader', () => {
    const finding = judgeServiceHealth(
      facts({answers: [answer('s1', 200, seed001(false)), answer('s2', 200, seed001(true)), answer('s3', 200, seed001(false))]}),
    )
    expect(finding).toEqual({status: 'pass', detail: '3/3 replicas running, /health 200 on 3, one batchWriterLeader'})
  })
  it('fails when no server, or more than one, is the leader', () => {
    const none = judgeServiceHealth(facts({answers: ['s1', 's2', 's3'].map((h) => answer(h, 200, seed001(false)))}))
    expect(none.status).toBe('fail')
    expect(none.detail).toBe('0 servers report batchWriterLeader: true; exactly one must')
    const two = judgeServiceHealth(facts({answers: [answer('s1', 200, seed001(true)), answer('s2', 200, seed001(true)), answer('s3', 200, seed001(false))]}))
    expect(two.detail).toBe('2 servers report batchWriterLeader: true (http://s1:5000/health, http://s2:5000/health); exactly one must')
    expect(two.hint).toMatch(/Split brain/)
  })
  it('fails missing replicas before looking at /health, and names each wrong answer', () => {
    expect(judgeServiceHealth(facts({runningReplicas: 2})).detail).toBe('2/3 replicas running (hosts s1,s2,s3)')
    const bad = judgeServiceHealth(facts({answers: [answer('s1', 503, '{"status":"failing"}'), answer('s2', null), answer('s3', 200, seed001(true))]}))
    expect(bad.detail).toBe(
      '2/3 /health answers wrong: http://s1:5000/health → HTTP 503 {"status":"failing"}; http://s2:5000/health → no answer (unknown error)',
    )
    expect(bad.hint).toContain('ctl rollback prod legacy')
  })
})
