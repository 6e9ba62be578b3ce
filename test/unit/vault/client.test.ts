import {mkdtempSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startDoubleServer, type RunningDouble} from '../../../packages/lab/src/vault-double/server.js'
import {CtlError} from '../../../src/lib/errors.js'
import {VaultClient} from '../../../src/vault/client.js'
import {submitShares} from '../../../src/vault/cluster.js'

/** The client against one in-process Vault double on loopback: what ctl makes of Vault's answers. */

let double: RunningDouble
let client: VaultClient
let keys: string[] = []

beforeAll(async () => {
  double = await startDoubleServer({nodeId: 'v1', listenHost: '127.0.0.1', port: 0, stateDir: mkdtempSync(join(tmpdir(), 'ctl-vault-client-'))})
  client = new VaultClient({node: 'v1', address: '127.0.0.1', apiUrl: `${double.apiAddr}/`})
})
afterAll(() => double?.close())

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number}
      s.close(() => resolve(port))
    })
  })
}

describe('VaultClient', () => {
  it("reads state, inits, and a refusal becomes a CtlError naming the node, the call and Vault's words", async () => {
    expect((await client.health()).status).toBe(501)
    const init = await client.init({secret_shares: 3, secret_threshold: 2})
    expect(init.keys_base64).toHaveLength(3)
    keys = init.keys_base64
    const error = (await client.init({secret_shares: 3, secret_threshold: 2}).catch((e: unknown) => e)) as CtlError
    expect(error).toBeInstanceOf(CtlError)
    expect(error.message).toBe('Vault on v1 refused PUT /v1/sys/init (HTTP 400): Vault is already initialized')
    expect(error).toMatchObject({host: 'v1', step: 'init', code: 'vault.api'})
  })

  it('submitShares stops as soon as the node is unsealed', async () => {
    expect(await client.sealStatus()).toMatchObject({initialized: true, sealed: true, t: 2})
    // Sent, the third "share" would be refused as malformed: two unseal the node, so it never is.
    const status = await submitShares(client, [...keys.slice(0, 2), 'not a share!'])
    expect(status).toMatchObject({sealed: false, progress: 0})
  })

  it('an address where nothing listens is "cannot run" with a hint about Vault running there', async () => {
    const port = await closedPort()
    const nobody = new VaultClient({node: 'v9', address: '127.0.0.1', apiUrl: `http://127.0.0.1:${port}/`})
    const error = (await nobody.sealStatus().catch((e) => e)) as CtlError
    expect(error).toMatchObject({host: 'v9', code: 'vault.unreachable', exitCode: 2})
    expect(error.message).toMatch(new RegExp(`Cannot reach Vault at http://127.0.0.1:${port}/`))
    expect(error.hint).toMatch(/Nothing listens .* is Vault running on v9\?/)
  })

  it('a node still sealed after all shares is an error with its progress', async () => {
    const fresh = await startDoubleServer({nodeId: 'v2', listenHost: '127.0.0.1', port: 0, stateDir: mkdtempSync(join(tmpdir(), 'ctl-vault-client-'))})
    try {
      const c = new VaultClient({node: 'v2', address: '127.0.0.1', apiUrl: `${fresh.apiAddr}/`})
      const init = await c.init({secret_shares: 5, secret_threshold: 3})
      await expect(submitShares(c, init.keys_base64.slice(0, 2))).rejects.toThrow('v2 is still sealed after 2 share(s) (progress 2/3)')
      expect((await submitShares(c, init.keys_base64.slice(2, 5))).sealed).toBe(false)
    } finally {
      await fresh.close()
    }
  })
})
