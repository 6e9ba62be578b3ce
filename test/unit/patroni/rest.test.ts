import {describe, expect, it} from 'vitest'
import {buildRestRequest, parseRestReply, restCall} from '../../../src/patroni/rest.js'
import {shellCommand} from '../../../src/lib/shell.js'

const member = {name: 'pg-h1', node: 'h1', address: '198.18.0.11', restPort: 8008, pgPort: 5432}
const MARK = '__ctl_http_status='

describe('buildRestRequest', () => {
  it('builds a GET as one curl command line', () => {
    expect(shellCommand(buildRestRequest(member, {method: 'GET', path: '/cluster'}))).toBe(
      "curl -sS --max-time 10 -X GET -w '__ctl_http_status=%{http_code}' http://198.18.0.11:8008/cluster",
    )
  })

  it('sends a body on stdin, never in the command', () => {
    const argv = buildRestRequest(member, {method: 'POST', path: '/switchover', body: {leader: 'pg-h1', candidate: 'pg-h2'}, timeoutSeconds: 60})
    expect(shellCommand(argv)).toBe(
      "curl -sS --max-time 60 -X POST -w '__ctl_http_status=%{http_code}' -H 'Content-Type: application/json' --data-binary @- http://198.18.0.11:8008/switchover",
    )
    expect(argv.join(' ')).not.toContain('pg-h2')
  })

  it('brackets IPv6 addresses', () => {
    expect(buildRestRequest({...member, address: 'fd00::1'}, {method: 'GET', path: '/patroni'}).at(-1)).toBe('http://[fd00::1]:8008/patroni')
  })
})

describe('parseRestReply', () => {
  it.each([
    ['JSON /cluster', `{"members":[]}${MARK}200`, 0, {status: 200, text: '{"members":[]}', json: {members: []}}],
    [
      'plain-text switchover success',
      `Successfully switched over to "pg-h2"${MARK}200`,
      0,
      {status: 200, text: 'Successfully switched over to "pg-h2"', json: undefined},
    ],
    ['plain-text refusal', `leader name does not match${MARK}412`, 0, {status: 412, text: 'leader name does not match', json: undefined}],
    ['scheduled', `Switchover scheduled${MARK}202`, 0, {status: 202, text: 'Switchover scheduled', json: undefined}],
    [
      '503 with JSON (stopped PostgreSQL, unknown path)',
      `{"state": "stopped", "role": "replica"}${MARK}503`,
      0,
      {status: 503, text: '{"state": "stopped", "role": "replica"}', json: {state: 'stopped', role: 'replica'}},
    ],
    ['text that looks like JSON but is not', `{not json${MARK}200`, 0, {status: 200, text: '{not json', json: undefined}],
  ])('%s', (_name, stdout, code, expected) => {
    expect(parseRestReply(stdout, '', code)).toEqual(expected)
  })

  it("reports a connection failure as status 0 with curl's message", () => {
    expect(parseRestReply(`${MARK}000`, 'curl: (7) Failed to connect to 198.18.0.11 port 8008: Connection refused', 7)).toEqual({
      status: 0,
      text: '',
      transportError: 'curl: (7) Failed to connect to 198.18.0.11 port 8008: Connection refused',
    })
  })
})

describe('restCall', () => {
  it("runs curl on the member's node with the JSON body on stdin", async () => {
    const calls: Array<{node: string; stdin?: string}> = []
    const reply = await restCall(
      async (node, _command, options) => {
        calls.push({node, stdin: options?.stdin})
        return {code: 0, stdout: `Successfully switched over to "pg-h2"${MARK}200`, stderr: ''}
      },
      member,
      {method: 'POST', path: '/switchover', body: {leader: 'pg-h1', candidate: 'pg-h2'}},
    )
    expect(calls).toEqual([{node: 'h1', stdin: '{"leader":"pg-h1","candidate":"pg-h2"}'}])
    expect(reply.status).toBe(200)
  })

  it('turns an unreachable node into an unanswered call', async () => {
    const reply = await restCall(async () => Promise.reject(new Error('Cannot connect to h1')), member, {method: 'GET', path: '/patroni'})
    expect(reply).toEqual({status: 0, text: '', transportError: 'Cannot connect to h1'})
  })
})
