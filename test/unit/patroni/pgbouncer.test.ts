import {describe, expect, it} from 'vitest'
import {parseInventory} from '../../../src/inventory/load.js'
import {judgePgbouncer, pausePgbouncer, pgbouncerSettings, resumePgbouncer} from '../../../src/patroni/pgbouncer.js'
import type {RunOn} from '../../../src/patroni/topology.js'

const INVENTORY = (pgbouncer: string, endpoint = '  writeEndpoint: {host: 10.0.0.1, port: 5000}\n') =>
  [
    'name: t',
    'nodes:',
    '  - {name: db1, address: 10.0.0.1}',
    '  - {name: db2, address: 10.0.0.2}',
    'databases:',
    '  patroni:',
    '    scope: s',
    '    members: [{node: db1, name: pg1}, {node: db2, name: pg2}]',
    '    password: env:CTL_TEST_PG_PASSWORD',
    endpoint.replace(/^ {2}/, '    ').trimEnd(),
    `    pgbouncer: ${pgbouncer}`,
    '',
  ].join('\n')

const loaded = (text: string) => {
  const parsed = parseInventory(text, '/tmp/t.yml')
  if (!parsed.inventory) throw new Error(JSON.stringify(parsed.problems))
  return {inventory: parsed.inventory, file: '/tmp/t.yml'}
}

describe('PgBouncer settings', () => {
  it('the admin console and the clients’ database on its node, the cluster’s user and password by default', () => {
    process.env.CTL_TEST_PG_PASSWORD = 's3cret'
    const s = pgbouncerSettings(loaded(INVENTORY('{node: db1}')))!
    expect(s.admin).toEqual({node: 'db1', host: '10.0.0.1', port: 6432, user: 'postgres', database: 'pgbouncer'})
    expect(s.client).toEqual({node: 'db1', host: '10.0.0.1', port: 6432, user: 'postgres', database: 'postgres'})
    expect(s.adminPassword).toBe('s3cret')
    expect(s.pauseTimeoutMs).toBe(30_000)
  })

  it('is refused without a write endpoint to forward to, and on a node the inventory does not have', () => {
    expect(
      parseInventory(INVENTORY('{node: db1}', ''), 't.yml')
        .problems.map((p) => p.message)
        .join(' '),
    ).toContain('PgBouncer forwards to databases.patroni.writeEndpoint')
    expect(parseInventory(INVENTORY('{node: db9}'), 't.yml').inventory).toBeUndefined()
  })
})

describe('PAUSE and RESUME', () => {
  const s = {
    node: 'db1',
    host: '10.0.0.1',
    port: 6432,
    admin: {node: 'db1', host: '10.0.0.1', port: 6432, user: 'postgres', database: 'pgbouncer'},
    client: {node: 'db1', host: '10.0.0.1', port: 6432, user: 'postgres', database: 'postgres'},
    adminPassword: 'pw',
    pauseTimeoutMs: 3000,
  }
  const answering = (...codes: {code: number; stderr?: string}[]) => {
    const sent: string[] = []
    const runOn: RunOn = async (_node, _command, options) => {
      sent.push(String(options?.stdin).split('\n')[1]!)
      const a = codes[Math.min(sent.length - 1, codes.length - 1)]!
      return {node: 'db1', code: a.code, stdout: '', stderr: a.stderr ?? ''} as never
    }
    return {sent, runOn}
  }

  it('sends PAUSE with the password on stdin, never on the command line', async () => {
    const {sent, runOn} = answering({code: 0})
    await pausePgbouncer(runOn, s, 'switchover')
    expect(sent).toEqual(['PAUSE;'])
  })

  it('a PAUSE that fails (open transactions past the limit) resumes PgBouncer and refuses', async () => {
    const {sent, runOn} = answering({code: 124, stderr: 'timed out'}, {code: 0})
    await expect(pausePgbouncer(runOn, s, 'switchover')).rejects.toMatchObject({code: 'pgbouncer.pause-failed', exitCode: 2})
    expect(sent).toEqual(['PAUSE;', 'RESUME;'])
  })

  it('RESUME of a PgBouncer that is not paused is fine; any other failure is an error naming how to resume by hand', async () => {
    await expect(resumePgbouncer(answering({code: 1, stderr: 'ERROR:  pooler is not paused/suspended'}).runOn, s, 'x')).resolves.toBeUndefined()
    await expect(resumePgbouncer(answering({code: 2, stderr: 'connection refused'}).runOn, s, 'x')).rejects.toMatchObject({
      code: 'pgbouncer.resume-failed',
      hint: expect.stringContaining('pgbouncer -c RESUME'),
    })
  })
})

describe('the PgBouncer row of the patroni check', () => {
  const s = {host: '10.0.0.1', port: 6432, admin: {node: 'db1', host: '10.0.0.1', port: 6432, user: 'postgres', database: 'pgbouncer'}}
  const leader = {name: 'pg2', address: '10.0.0.2'}
  it('passes when a query through it lands on the leader', () => {
    expect(judgePgbouncer('prod', s, leader, {recovery: false, server: '10.0.0.2'})).toEqual({
      target: 'pgbouncer',
      status: 'pass',
      detail: '10.0.0.1:6432 reaches the leader pg2 (10.0.0.2)',
    })
  })
  it('fails when it lands on a replica or elsewhere, and when it does not answer (left paused?)', () => {
    expect(judgePgbouncer('prod', s, leader, {recovery: true, server: '10.0.0.1'})).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('(a replica), not the leader pg2'),
    })
    expect(judgePgbouncer('prod', s, leader, {error: 'SQL on 10.0.0.1:6432/postgres failed: timed out'})).toMatchObject({
      status: 'fail',
      hint: expect.stringContaining('RESUME'),
    })
  })
})
