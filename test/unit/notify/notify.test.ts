import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {LoadedInventory} from '../../../src/inventory/load.js'
import {inventorySchema} from '../../../src/inventory/schema/index.js'
import {endEvent, notificationText, type Notification} from '../../../src/notify/message.js'
import {Notifier} from '../../../src/notify/send.js'

// The webhook sender against a real HTTP server on this machine: bodies, event filters, a failing
// and a hanging receiver (bounded, reported, the URL's token never printed).

interface Received {
  path: string
  body: any
}
const received: Received[] = []
let server: Server
let base = ''

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      received.push({path: req.url ?? '', body: JSON.parse(body)})
      if (req.url?.startsWith('/hang')) return // never answers
      res.writeHead(req.url?.startsWith('/broken') ? 500 : 200).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

function loadedWith(webhooks: object[]): LoadedInventory {
  return {env: 'prod', file: '/tmp/prod.yml', inventory: inventorySchema.parse({name: 'prod', nodes: [{name: 'h1', address: '10.0.0.1'}], notify: {webhooks}})}
}
const note = (event: Notification['event'], extra: Partial<Notification> = {}): Notification => ({
  event,
  env: 'prod',
  operator: 'alice',
  from: 'laptop',
  command: 'deploy prod --image app=v2 --yes',
  what: 'app=ctl/app:v2',
  at: '2026-12-07T12:00:00.000Z',
  ...extra,
})

describe('webhook notifications', () => {
  it('sends the Slack body and the generic JSON body, each webhook only the events it asks for', async () => {
    process.env.CTL_TEST_SLACK = `${base}/slack/T000/B000/secret-token-1`
    process.env.CTL_TEST_JSON = `${base}/json/secret-token-2`
    received.length = 0
    const notifier = new Notifier(
      loadedWith([
        {name: 'chat', url: 'env:CTL_TEST_SLACK', format: 'slack'},
        {name: 'audit', url: 'env:CTL_TEST_JSON', events: ['deploy.end', 'deploy.rollback']},
      ]),
    )
    notifier.send(note('deploy.start'))
    notifier.send(note('deploy.rollback', {outcome: 'rolled-back', durationMs: 42_000, error: 'task x failed /health'}))
    expect(await notifier.settle()).toEqual([])
    const bySink = (prefix: string) => received.filter((r) => r.path.startsWith(prefix)).map((r) => r.body)
    expect(bySink('/slack')).toEqual([
      {text: '▶ deploy app=ctl/app:v2 started on prod by alice'},
      {text: '↩ deploy app=ctl/app:v2 ROLLED BACK on prod by alice in 42 s: task x failed /health'},
    ])
    expect(bySink('/json')).toEqual([note('deploy.rollback', {outcome: 'rolled-back', durationMs: 42_000, error: 'task x failed /health'})])
  })

  it('a receiver that fails or never answers is reported at the end, within the bound, without its URL', async () => {
    process.env.CTL_TEST_HANG = `${base}/hang/secret-token-3`
    process.env.CTL_TEST_BROKEN = `${base}/broken/secret-token-4`
    const notifier = new Notifier(
      loadedWith([
        {name: 'hangs', url: 'env:CTL_TEST_HANG'},
        {name: 'broken', url: 'env:CTL_TEST_BROKEN'},
      ]),
    )
    const started = Date.now()
    notifier.send(note('runbook.refused', {what: 'galera-recover', outcome: 'refused', error: 'lock held by bob'}))
    const failures = await notifier.settle(500)
    expect(Date.now() - started).toBeLessThan(900)
    expect(failures).toEqual(['webhook hangs (runbook.refused): still no answer when ctl ended; given up', 'webhook broken (runbook.refused): HTTP 500'])
    expect(failures.join('\n')).not.toContain('secret-token')
  })

  it('a URL that cannot be resolved or reached is a failure of that webhook only', async () => {
    delete process.env.CTL_TEST_UNSET
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    process.env.CTL_TEST_REFUSED = `http://127.0.0.1:${port}/secret-token-5`
    const notifier = new Notifier(
      loadedWith([
        {name: 'unset', url: 'env:CTL_TEST_UNSET'},
        {name: 'refused', url: 'env:CTL_TEST_REFUSED'},
      ]),
    )
    notifier.send(note('deploy.end', {outcome: 'ok'}))
    const failures = await notifier.settle()
    expect(failures[0]).toBe('webhook unset (deploy.end): Secret env:CTL_TEST_UNSET is not set')
    expect(failures[1]).toMatch(/^webhook refused \(deploy\.end\): .*ECONNREFUSED/)
    expect(failures.join('\n')).not.toContain('secret-token')
  })

  it('names the end event: refusal, a deploy that rolled back, or the plain end', () => {
    expect(endEvent('runbook', 'refused')).toBe('runbook.refused')
    expect(endEvent('runbook', 'failed')).toBe('runbook.end')
    expect(endEvent('deploy', 'rolled-back')).toBe('deploy.rollback')
    expect(endEvent('rollback', 'ok')).toBe('rollback.end')
    expect(notificationText(note('runbook.end', {what: 'galera-recover', outcome: 'ok', durationMs: 3400}))).toBe(
      '✔ runbook galera-recover ok on prod by alice in 3.4 s',
    )
  })

  it('the inventory refuses an inline URL and two webhooks of one name', () => {
    const parse = (webhooks: object[]) => inventorySchema.safeParse({name: 'p', nodes: [{name: 'h1', address: '10.0.0.1'}], notify: {webhooks}})
    expect(parse([{name: 'a', url: 'https://hooks.slack.com/services/T/B/x'}]).success).toBe(false)
    expect(
      parse([
        {name: 'a', url: 'env:A'},
        {name: 'a', url: 'env:B'},
      ]).success,
    ).toBe(false)
    expect(parse([{name: 'a', url: 'env:A', events: ['deploy.finish']}]).success).toBe(false)
    expect(parse([{name: 'a', url: 'file:hook.url', format: 'slack'}]).success).toBe(true)
  })
})
