import {randomBytes} from 'node:crypto'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {api, startTestCluster, vaultBinary, waitForHealth, type TestCluster} from '../../../../test/lab/vault-servers.js'

/**
 * The behaviour of Vault's API that ctl depends on, written once and run against the lab's double
 * and, when a `vault` binary is on PATH, against a real `vault server` with Raft storage, so the
 * double cannot drift from the real thing unnoticed.
 */

const binary = vaultBinary()
const variants = [
  {kind: 'double' as const, title: "the lab's Vault API double", enabled: true},
  {
    kind: 'vault' as const,
    title: binary
      ? `a real vault server (${binary})`
      : 'a real vault server — SKIPPED: no `vault` binary on PATH, install one to run this contract against Vault itself',
    enabled: Boolean(binary),
  },
]

interface Init {
  keys: string[]
  keys_base64: string[]
  root_token: string
}

for (const variant of variants) {
  describe.skipIf(!variant.enabled)(`Vault API contract: ${variant.title}`, () => {
    let cluster: TestCluster
    let a: string, b: string, c: string

    beforeEach(async () => {
      cluster = await startTestCluster(variant.kind)
      ;[a, b, c] = cluster.addrs as [string, string, string]
    })
    afterEach(async () => {
      await cluster?.stop()
    })

    async function init(addr = a): Promise<Init> {
      const reply = await api(addr, 'PUT', 'sys/init', {secret_shares: 5, secret_threshold: 3})
      expect(reply.status).toBe(200)
      return reply.body
    }

    async function unseal(addr: string, keys: string[]): Promise<any> {
      let last: any
      for (const key of keys) last = (await api(addr, 'PUT', 'sys/unseal', {key})).body
      return last
    }

    /** init on a, unseal it, wait for it to be active. */
    async function activeLeader(): Promise<Init> {
      const keys = await init()
      expect((await unseal(a, keys.keys_base64.slice(0, 3))).sealed).toBe(false)
      await waitForHealth(a, 200)
      return keys
    }

    it('an uninitialized node: sys/health 501 (custom uninitcode honoured, HEAD without body), seal-status initialized false', async () => {
      const health = await api(a, 'GET', 'sys/health')
      expect(health.status).toBe(501)
      expect(health.body).toMatchObject({initialized: false, sealed: true})
      expect((await api(a, 'GET', 'sys/health?uninitcode=299')).status).toBe(299)
      const head = await fetch(`${a}/v1/sys/health`, {method: 'HEAD'})
      expect(head.status).toBe(501)
      expect(await head.text()).toBe('')
      expect((await api(a, 'GET', 'sys/seal-status')).body).toMatchObject({type: 'shamir', initialized: false, sealed: true, t: 0, n: 0, progress: 0})
      expect((await api(a, 'GET', 'sys/init')).body).toEqual({initialized: false})
    })

    it('init: refused for a threshold above the shares; then shares in hex and base64 and a root token; refused the second time', async () => {
      const bad = await api(a, 'PUT', 'sys/init', {secret_shares: 3, secret_threshold: 5})
      expect(bad.status).toBe(400)
      expect(bad.body.errors.join(' ')).toMatch(/threshold/)
      const keys = await init()
      expect(keys.keys).toHaveLength(5)
      expect(keys.keys_base64).toHaveLength(5)
      keys.keys.forEach((hex, i) => expect(Buffer.from(hex, 'hex').equals(Buffer.from(keys.keys_base64[i]!, 'base64'))).toBe(true))
      expect(new Set(keys.keys).size).toBe(5)
      expect(keys.root_token).toMatch(/^(hvs|s)\./)
      const again = await api(a, 'PUT', 'sys/init', {secret_shares: 5, secret_threshold: 3})
      expect(again.status).toBe(400)
      expect(again.body.errors).toContain('Vault is already initialized')
      expect((await api(a, 'GET', 'sys/init')).body).toEqual({initialized: true})
    })

    it('sealed after init: sys/health 503 (custom sealedcode honoured); raft configuration refused while sealed', async () => {
      await init()
      const health = await api(a, 'GET', 'sys/health')
      expect(health.status).toBe(503)
      expect(health.body).toMatchObject({initialized: true, sealed: true})
      expect((await api(a, 'GET', 'sys/health?sealedcode=298')).status).toBe(298)
      expect((await api(a, 'GET', 'sys/seal-status')).body).toMatchObject({initialized: true, sealed: true, t: 3, n: 5, progress: 0})
      expect((await api(a, 'GET', 'sys/storage/raft/configuration')).status).toBe(503)
    })

    it('unseal: progress counts distinct shares (a repeated share does not count), reset discards it, the threshold unseals', async () => {
      const keys = await init()
      const first = await api(a, 'PUT', 'sys/unseal', {key: keys.keys[0]})
      expect(first.body).toMatchObject({sealed: true, t: 3, n: 5, progress: 1})
      expect((await api(a, 'PUT', 'sys/unseal', {key: keys.keys[0]})).body.progress).toBe(1)
      expect((await api(a, 'PUT', 'sys/unseal', {key: keys.keys_base64[1]})).body.progress).toBe(2)
      const reset = await api(a, 'PUT', 'sys/unseal', {reset: true})
      expect(reset.status).toBe(200)
      expect(reset.body).toMatchObject({sealed: true, progress: 0})
      // Hex and base64 shares mix freely.
      const done = await unseal(a, [keys.keys[2]!, keys.keys_base64[3]!, keys.keys[4]!])
      expect(done).toMatchObject({sealed: false, progress: 0})
      const health = await waitForHealth(a, 200)
      expect(health.body).toMatchObject({initialized: true, sealed: false, standby: false})
      const resetUnsealed = await api(a, 'PUT', 'sys/unseal', {reset: true})
      expect(resetUnsealed.status).toBe(400)
      expect(resetUnsealed.body.errors.join(' ')).toMatch(/unsealed/)
    })

    it('unseal: a wrong share is refused at the threshold and the attempt starts over; malformed keys are refused', async () => {
      const keys = await init()
      await unseal(a, keys.keys.slice(0, 2))
      // A share of the right length whose x-coordinate (last byte) differs from the two given.
      const bogus = randomBytes(33)
      const used = keys.keys.slice(0, 2).map((k) => Buffer.from(k, 'hex')[32])
      bogus[32] = [...Array(255).keys()].map((x) => x + 1).find((x) => !used.includes(x))!
      const wrong = await api(a, 'PUT', 'sys/unseal', {key: bogus.toString('hex')})
      expect(wrong.status).toBe(400)
      expect(wrong.body.errors.join(' ')).toMatch(/invalid key/)
      const after = (await api(a, 'GET', 'sys/seal-status')).body
      expect(after).toMatchObject({sealed: true, progress: 0})
      const malformed = await api(a, 'PUT', 'sys/unseal', {key: 'not a key!'})
      expect(malformed.status).toBe(400)
      expect(malformed.body.errors).toContain("'key' must be a valid hex or base64 string")
      expect((await api(a, 'PUT', 'sys/unseal', {})).status).toBe(400)
    })

    it("raft join before unseal: the joiner reports initialized and sealed with the leader's t/n, the shares finish the join, it becomes standby (429)", async () => {
      const keys = await activeLeader()
      const joined = await api(b, 'POST', 'sys/storage/raft/join', {leader_api_addr: a})
      expect(joined.status).toBe(200)
      expect(joined.body).toEqual({joined: true})
      expect((await api(b, 'GET', 'sys/seal-status')).body).toMatchObject({initialized: true, sealed: true, t: 3, n: 5})
      expect((await api(b, 'GET', 'sys/health')).status).toBe(503)
      expect((await unseal(b, keys.keys.slice(1, 4))).sealed).toBe(false)
      const standby = await waitForHealth(b, 429)
      expect(standby.body).toMatchObject({initialized: true, sealed: false, standby: true})
      expect((await api(b, 'GET', 'sys/health?standbyok=true')).status).toBe(200)
      expect((await api(b, 'GET', 'sys/health?standbycode=250')).status).toBe(250)
      const leader = (await api(b, 'GET', 'sys/leader')).body
      expect(leader).toMatchObject({ha_enabled: true, is_self: false, leader_address: a})
    })

    it('raft configuration: needs the token; lists every joined node with one leader, also when asked through a standby', async () => {
      const keys = await activeLeader()
      for (const joiner of [b, c]) {
        expect((await api(joiner, 'POST', 'sys/storage/raft/join', {leader_api_addr: a})).status).toBe(200)
        expect((await unseal(joiner, keys.keys_base64.slice(2, 5))).sealed).toBe(false)
        await waitForHealth(joiner, 429)
      }
      expect((await api(a, 'GET', 'sys/storage/raft/configuration')).status).toBe(403)
      expect((await api(a, 'GET', 'sys/storage/raft/configuration', undefined, 'hvs.wrong')).status).toBe(403)
      for (const addr of [a, c]) {
        const config = await api(addr, 'GET', 'sys/storage/raft/configuration', undefined, keys.root_token)
        expect(config.status).toBe(200)
        const servers = config.body.data.config.servers as Array<{node_id: string; leader: boolean; voter: boolean}>
        expect(servers.map((s) => s.node_id).sort()).toEqual(['n1', 'n2', 'n3'])
        expect(servers.filter((s) => s.leader).map((s) => s.node_id)).toEqual(['n1'])
        expect(servers.every((s) => s.voter)).toBe(true)
      }
    })

    it('join is refused on an initialized node and when the leader is sealed', async () => {
      await init()
      expect((await api(a, 'POST', 'sys/storage/raft/join', {leader_api_addr: b})).status).toBeGreaterThanOrEqual(400)
      const toSealed = await api(b, 'POST', 'sys/storage/raft/join', {leader_api_addr: a})
      expect(toSealed.status).toBeGreaterThanOrEqual(400)
      expect((await api(b, 'GET', 'sys/seal-status')).body.initialized).toBe(false)
    })

    it('a restart seals the node again and keeps its init and Raft membership; the same shares unseal it, one node active', async () => {
      const keys = await activeLeader()
      for (const joiner of [b, c]) {
        await api(joiner, 'POST', 'sys/storage/raft/join', {leader_api_addr: a})
        await unseal(joiner, keys.keys.slice(0, 3))
        await waitForHealth(joiner, 429)
      }
      for (const i of [0, 1, 2]) await cluster.restart(i)
      for (const addr of [a, b, c]) {
        expect((await api(addr, 'GET', 'sys/seal-status')).body).toMatchObject({initialized: true, sealed: true, t: 3, n: 5, progress: 0})
        expect((await api(addr, 'GET', 'sys/health')).status).toBe(503)
      }
      for (const addr of [a, b, c]) expect((await unseal(addr, keys.keys.slice(2, 5))).sealed).toBe(false)
      const deadline = Date.now() + 30_000
      let codes: number[] = []
      while (Date.now() < deadline) {
        codes = await Promise.all([a, b, c].map(async (addr) => (await api(addr, 'GET', 'sys/health')).status))
        if (codes.filter((s) => s === 200).length === 1 && codes.filter((s) => s === 429).length === 2) break
        await new Promise((r) => setTimeout(r, 250))
      }
      expect(codes.sort()).toEqual([200, 429, 429])
      const config = await api(a, 'GET', 'sys/storage/raft/configuration', undefined, keys.root_token)
      expect((config.body.data.config.servers as unknown[]).length).toBe(3)
    })
  })
}
