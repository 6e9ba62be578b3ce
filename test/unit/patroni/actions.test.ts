import {describe, expect, it} from 'vitest'
import {failoverRequest, readRequestReply, switchoverRequest} from '../../../src/patroni/actions.js'
import {startMemberCommand} from '../../../src/runbooks/process-control.js'
import {parseScheduledAt} from '../../../src/runbooks/patroni-switchover.js'

describe('switchover and failover requests', () => {
  it("use Patroni's field names", () => {
    expect(switchoverRequest('pg-h1', 'pg-h2')).toEqual({method: 'POST', path: '/switchover', body: {leader: 'pg-h1', candidate: 'pg-h2'}, timeoutSeconds: 60})
    expect(switchoverRequest('pg-h1', 'pg-h2', '2030-01-01T00:00:00Z').body).toEqual({
      leader: 'pg-h1',
      candidate: 'pg-h2',
      scheduled_at: '2030-01-01T00:00:00Z',
    })
    expect(failoverRequest('pg-h3')).toEqual({method: 'POST', path: '/failover', body: {candidate: 'pg-h3'}, timeoutSeconds: 60})
  })
})

describe('readRequestReply (Patroni answers in plain text)', () => {
  it.each([
    [
      {status: 200, text: 'Successfully switched over to "pg-h2"'},
      {kind: 'done', message: 'Successfully switched over to "pg-h2"'},
    ],
    [
      {status: 200, text: 'Switched over to "pg-h3" instead of "pg-h2"'},
      {kind: 'done', message: 'Switched over to "pg-h3" instead of "pg-h2"'},
    ],
    [
      {status: 202, text: 'Switchover scheduled'},
      {kind: 'scheduled', message: 'Switchover scheduled'},
    ],
    [
      {status: 503, text: 'Switchover status unknown'},
      {kind: 'unknown', message: 'Switchover status unknown'},
    ],
    [
      {status: 0, text: '', transportError: 'curl: (28) Operation timed out'},
      {kind: 'unknown', message: 'curl: (28) Operation timed out'},
    ],
    [
      {status: 412, text: 'leader name does not match'},
      {kind: 'refused', message: 'leader name does not match', status: 412},
    ],
    [
      {status: 412, text: 'candidate does not exists'},
      {kind: 'refused', message: 'candidate does not exists', status: 412},
    ],
    [
      {status: 400, text: 'Switchover could be performed only from a specific leader'},
      {kind: 'refused', message: 'Switchover could be performed only from a specific leader', status: 400},
    ],
    [
      {status: 503, text: 'Switchover failed'},
      {kind: 'refused', message: 'Switchover failed', status: 503},
    ],
  ])('%j', (reply, expected) => expect(readRequestReply(reply)).toEqual(expected))
})

describe('startMemberCommand', () => {
  const node = {name: 'db1', address: '10.0.0.1', role: 'none' as const, labels: {}, docker: {socket: '/run/docker.sock'}}
  it.each([
    [{kind: 'commands' as const, start: ['/opt/bin/pg', 'start'], stop: ['/opt/bin/pg', 'stop']}, ['/opt/bin/pg', 'start']],
    [{kind: 'systemd' as const, unit: 'patroni'}, ['systemctl', 'start', 'patroni']],
    [{kind: 'docker' as const, container: 'patroni1'}, ['docker', '-H', 'unix:///run/docker.sock', 'start', 'patroni1']],
  ])('%j', (control, argv) => expect(startMemberCommand(control, node)).toEqual(argv))
})

describe('parseScheduledAt', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  it.each(['2030-01-31T03:00:00+01:00', '2030-01-31T02:00Z', '2030-01-31T02:00:00.5Z'])('accepts %s', (value) =>
    expect(parseScheduledAt(value, now)).toBe(value),
  )
  it.each([
    ['2030-01-31T03:00:00', 'timezone'],
    ['tomorrow', 'timezone'],
    ['2020-01-01T00:00:00Z', 'in the past'],
  ])('refuses %s', (value, why) => expect(() => parseScheduledAt(value, now)).toThrow(why))
})
