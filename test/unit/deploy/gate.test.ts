import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {describe, expect, it} from 'vitest'
import {evaluateGate, healthyStreakMs, lastAnswers, probeHealth, type Probe} from '../../../src/deploy/gate.js'

const settings = {expectStatus: 200, passForSeconds: 3, deadlineSeconds: 10}
const p = (at: number, status: number | null): Probe => ({at, status, detail: status === null ? 'ECONNREFUSED' : '{}'})

describe('the /health gate', () => {
  it.each([
    ['no probe yet', [], 1000, 'pending'],
    ['not started yet, long after Swarm listed it (waiting for a node or a free port)', [], 60_000, 'pending'],
    ['refused while starting', [p(0, null), p(500, null)], 600, 'pending'],
    ['healthy 3 s without a break', [p(0, null), p(1000, 200), p(2500, 200), p(4000, 200)], 4000, 'passed'],
    ['a 503 after a healthy answer fails at once', [p(1000, 200), p(2500, 503), p(3000, 200), p(5000, 200)], 5000, 'failed'],
    ['a 503 after passing fails (monitor window)', [p(0, 200), p(3000, 200), p(4000, 200), p(4500, 503)], 4500, 'failed'],
    ['one probe without an answer after healthy is tolerated', [p(0, 200), p(1000, null), p(2000, 200), p(3000, 200)], 3000, 'pending'],
    ['two probes in a row without an answer after healthy fail', [p(0, 200), p(1000, null), p(2000, null)], 2000, 'failed'],
    ['slow start: refused and 503 before the first healthy answer are fine', [p(0, null), p(1000, 503), p(2000, 200), p(5000, 200)], 5000, 'passed'],
    ['never healthy by the deadline', [p(0, 503), p(10_500, 503)], 10_500, 'failed'],
    ['healthy at the deadline but not long enough', [p(9000, 200), p(10_500, 200)], 10_500, 'failed'],
  ] as const)('%s → %s', (_name, probes, now, state) => {
    expect(evaluateGate(probes, 0, now, settings).state).toBe(state)
  })

  it('names the answer that failed a task after it was healthy', () => {
    expect(evaluateGate([p(0, 200), p(500, 200), p(1000, 503)], 0, 1000, settings)).toEqual({state: 'failed', reason: 'answered HTTP 503 after being healthy'})
  })

  it('measures the unbroken healthy streak up to the newest probe', () => {
    expect(healthyStreakMs([p(0, 200), p(1000, 503), p(2000, 200), p(3500, 200)], settings)).toBe(1500)
    expect(healthyStreakMs([p(0, 200), p(1000, 503)], settings)).toBe(0)
  })

  it('names the last answer when it fails, and lists the last answers', () => {
    const verdict = evaluateGate([p(0, 503), p(11_000, 503)], 0, 11_000, settings)
    expect(verdict).toEqual({state: 'failed', reason: 'not healthy for 3s within 10s; last answer: HTTP 503'})
    expect(evaluateGate([p(9000, 200), p(10_700, 200)], 0, 10_700, settings)).toEqual({
      state: 'failed',
      reason: 'not healthy for 3s within 10s; last answer: HTTP 200 (healthy for only 1.7s)',
    })
    expect(lastAnswers([p(0, null), p(1000, 503)], 1)).toEqual(['1970-01-01T00:00:01.000Z HTTP 503 {}'])
    // The answers that tell why, then the refusal of a task that has stopped.
    expect(lastAnswers([p(0, 503), p(1000, 503), p(2000, null), p(3000, null)], 3)).toEqual([
      '1970-01-01T00:00:00.000Z HTTP 503 {}',
      '1970-01-01T00:00:01.000Z HTTP 503 {}',
      '1970-01-01T00:00:03.000Z no answer ECONNREFUSED',
    ])
    expect(lastAnswers([p(0, null), p(1000, null)], 3)).toEqual(['1970-01-01T00:00:01.000Z no answer ECONNREFUSED'])
  })

  it('probes a real HTTP server and reports a refused connection as a probe', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 503 : 404, {'content-type': 'application/json'})
      res.end('{"status":"failing",\n"version":"v2"}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const answer = await probeHealth(`http://127.0.0.1:${port}/health`, 1000)
    expect(answer.status).toBe(503)
    expect(answer.detail).toBe('{"status":"failing", "version":"v2"}')
    await new Promise((resolve) => server.close(resolve))
    const refused = await probeHealth(`http://127.0.0.1:${port}/health`, 1000)
    expect(refused).toMatchObject({status: null, detail: 'ECONNREFUSED'})
  })
})
