import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, projectRoot, runCtl} from '../support/cli.js'
import {deployApp, ensureSwarm} from './support/app.js'
import {labInventoryCopy} from './support/swarm.js'

// Webhook notifications (`notify:` in the inventory) from real runs against the lab, received by an
// HTTP server in this test: a good deploy, a deploy that is rolled back, a refused runbook, and a
// receiver that never answers, which must not hold the deploy more than 1 s at its end.

interface Hit {
  path: string
  body: any
  at: number
}
const hits: Hit[] = []
let server: Server
let base = ''
const LOCKS = '/var/lib/ctl/locks'

/** The copy lives in a temp dir: its stack files are the checkout's. */
const absoluteStacks = (inv: any) => {
  for (const stack of inv.stacks) stack.files = stack.files.map((f: string) => join(projectRoot, 'inventories', f))
}
const received = (prefix: string) => hits.filter((h) => h.path.startsWith(prefix)).map((h) => h.body)

describe('notifications (lab)', () => {
  let inventory = ''
  const env = () => ({
    CTL_OPERATOR: 'dana',
    CTL_HOOK_CHAT: `${base}/chat/T0/B0/token-chat`,
    CTL_HOOK_AUDIT: `${base}/audit/token-audit`,
    CTL_HOOK_SLOW: `${base}/hang/token-slow`,
  })

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        hits.push({path: req.url ?? '', body: JSON.parse(body), at: Date.now()})
        if (!req.url?.startsWith('/hang')) res.writeHead(200).end('ok')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    inventory = labInventoryCopy((inv) => {
      absoluteStacks(inv)
      inv.notify = {
        webhooks: [
          {name: 'chat', url: 'env:CTL_HOOK_CHAT', format: 'slack'},
          {name: 'audit', url: 'env:CTL_HOOK_AUDIT', format: 'json'},
        ],
      }
    })
    await ensureSwarm()
    await deployApp('v1')
  })
  afterAll(() => {
    server.closeAllConnections()
    server.close()
    for (const h of ['h1', 'h2', 'h3']) rmSync(join(LOCKS, `runbook-etcd-lab.${h}.lock`), {recursive: true, force: true})
  })

  it('a good deploy: start and end, with the env, who, what, outcome and duration; the chat gets one line each', async () => {
    hits.length = 0
    const run = await runCtl(['deploy', inventory, '--image', 'app=v2', '--skip-preflight', '--json'], {env: env()})
    expect(run.exitCode, run.stderr).toBe(0)
    const audit = received('/audit')
    expect(audit.map((b) => b.event)).toEqual(['deploy.start', 'deploy.end'])
    expect(audit[0]).toMatchObject({
      env: 'lab',
      operator: 'dana',
      what: expect.stringMatching(/^app=(\S+\/)?ctl-lab\/app:v2(@sha256:[0-9a-f]{64})?$/),
      command: expect.stringMatching(/^deploy .*--image app=v2/),
    })
    expect(audit[1]).toMatchObject({env: 'lab', operator: 'dana', outcome: 'ok', durationMs: expect.any(Number)})
    expect(received('/chat')).toEqual([
      {text: expect.stringMatching(/^▶ deploy app=(\S+\/)?ctl-lab\/app:v2 started on lab by dana$/)},
      {text: expect.stringMatching(/^✔ deploy app=(\S+\/)?ctl-lab\/app:v2 ok on lab by dana in [\d.]+ s$/)},
    ])
  })

  it('a deploy that fails its /health gate and is rolled back: deploy.rollback naming why', async () => {
    hits.length = 0
    const run = await runCtl(['deploy', inventory, '--image', 'app=broken', '--skip-preflight', '--json'], {env: env()})
    expect(run.exitCode).toBe(1)
    expect(json(run).outcome).toBe('rolled-back')
    const audit = received('/audit')
    expect(audit.map((b) => b.event)).toEqual(['deploy.start', 'deploy.rollback'])
    expect(audit[1]).toMatchObject({outcome: 'rolled-back', error: expect.stringMatching(/health|503/i)})
    expect(received('/chat')[1].text).toMatch(/^↩ deploy app=(\S+\/)?ctl-lab\/app:broken ROLLED BACK on lab by dana in [\d.]+ s: /)
  })

  it('a runbook refused (its cluster is held by another run): runbook.start then runbook.refused naming the holder', async () => {
    for (const h of ['h1', 'h2', 'h3']) {
      const dir = join(LOCKS, `runbook-etcd-lab.${h}.lock`)
      mkdirSync(dir, {recursive: true})
      writeFileSync(
        join(dir, 'info.json'),
        JSON.stringify({id: 'held', holder: 'carol', from: 'desk', since: new Date().toISOString(), env: 'lab', what: 'etcd-restore run r9'}),
      )
    }
    hits.length = 0
    const run = await runCtl(['runbook', 'etcd-snapshot', inventory, '--yes', '--json'], {env: env()})
    expect(run.exitCode).toBe(2)
    const audit = received('/audit')
    expect(audit.map((b) => b.event)).toEqual(['runbook.start', 'runbook.refused'])
    expect(audit[1]).toMatchObject({what: 'etcd-snapshot', outcome: 'refused', error: expect.stringContaining('carol')})
    expect(received('/chat')[1].text).toMatch(/^⛔ runbook etcd-snapshot refused on lab by dana: .*carol/)
  })

  it('a receiver that never answers: the deploy ends at most 1 s after its end was sent, says so, and never prints the URL', async () => {
    const slow = labInventoryCopy((inv) => {
      absoluteStacks(inv)
      inv.notify = {webhooks: [{name: 'slow', url: 'env:CTL_HOOK_SLOW', format: 'slack'}], timeoutMs: 30_000}
    })
    hits.length = 0
    const run = await runCtl(['deploy', slow, '--image', 'app=v1', '--skip-preflight'], {env: env()})
    const exited = Date.now()
    expect(run.exitCode, run.stderr).toBe(0)
    const end = hits.find((h) => h.path.startsWith('/hang') && /^✔ deploy /.test(h.body.text))
    expect(end, JSON.stringify(hits)).toBeDefined()
    expect(exited - end!.at).toBeLessThan(1000)
    expect(run.stderr).toContain('Warning: notification not delivered: webhook slow (deploy.start): still no answer when ctl ended; given up')
    expect(`${run.stdout}${run.stderr}`).not.toContain('token-slow')
  })
})
