import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:tls'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {isAbsolute, join} from 'node:path'
import {parse as parseYaml, stringify as stringifyYaml} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {PreflightReport} from '../../src/checks/report.js'
import {json, projectRoot, runCtl} from '../support/cli.js'

// The tls-expiry check against a real TLS endpoint: a certificate made here by openssl, valid for 5
// days, served on loopback; the lab's inventory with that endpoint added.
let server: Server
let port: number
const dir = mkdtempSync(join(tmpdir(), 'ctl-check-tls-'))

function inventoryWithEndpoint(minDaysValid: number): string {
  const inventoriesDir = join(projectRoot, 'inventories')
  const inv = parseYaml(readFileSync(join(inventoriesDir, 'lab.yml'), 'utf8'))
  const abs = (p: string) => (isAbsolute(p) ? p : join(inventoriesDir, p))
  // Only the SSH part is needed: the check itself talks TLS from here.
  const file = join(dir, `tls-${minDaysValid}.yml`)
  writeFileSync(
    file,
    stringifyYaml({
      name: 'tlslab',
      ssh: {...inv.ssh, key: abs(inv.ssh.key), knownHosts: abs(inv.ssh.knownHosts)},
      nodes: inv.nodes.slice(0, 1),
      tls: {endpoints: [{host: '127.0.0.1', port, minDaysValid}]},
    }),
  )
  return file
}

async function tlsCheck(minDaysValid: number) {
  const run = await runCtl(['check', 'run', inventoryWithEndpoint(minDaysValid), 'tls-expiry', '--json'])
  return {run, result: json<PreflightReport>(run).results[0]!}
}

describe('ctl check run tls-expiry', () => {
  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '5',
        '-subj',
        '/CN=ctl-check.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      {stdio: 'ignore'},
    )
    server = createServer({key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem'))}, (socket) => socket.end())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => {
    if (server.listening) server.close()
  })

  it('fails a certificate expiring before the minimum, naming the date and the days left', async () => {
    const {run, result} = await tlsCheck(14)
    expect(run.exitCode).toBe(1)
    expect(result.target).toBe(`127.0.0.1:${port}`)
    expect(result.status).toBe('fail')
    expect(result.detail).toMatch(/^ctl-check\.test: expires \d{4}-\d\d-\d\d \([45] days, minimum 14\)$/)
    expect(result.hint).toContain('Renew')
  })

  it('warns (exit 0) when the dates are fine but the chain is not trusted here', async () => {
    const {run, result} = await tlsCheck(3)
    expect(result.status).toBe('warn')
    expect(result.detail).toMatch(/not trusted here: DEPTH_ZERO_SELF_SIGNED_CERT$/)
    expect(run.exitCode).toBe(0)
  })

  it('reports an endpoint that does not answer as could not run (exit 2)', async () => {
    const closed = port
    server.close()
    await new Promise((r) => setTimeout(r, 200))
    const {run, result} = await tlsCheck(3)
    expect(result.target).toBe(`127.0.0.1:${closed}`)
    expect(result.status).toBe('error')
    expect(result.detail).toMatch(/TLS connection to 127\.0\.0\.1:\d+ failed: connect ECONNREFUSED/)
    expect(run.exitCode).toBe(2)
  })
})
