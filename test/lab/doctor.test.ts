import {readFileSync, writeFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {labInventoryCopy} from './support/swarm.js'

// ctl doctor with the lab's inventory: its real key file and known_hosts (written by `lab up`); a
// known_hosts without one node's key is named, with what to do.

describe('ctl doctor (lab inventory)', () => {
  it("passes with the lab's key and known_hosts; names a node with no recorded key, with what to do", async () => {
    const ok = await runCtl(['doctor', 'lab', '--json'])
    const rows = json(ok).results
    expect(rows.find((r: any) => r.check === 'ssh-key')).toMatchObject({status: 'pass'})
    expect(rows.find((r: any) => r.check === 'known-hosts')).toMatchObject({status: 'pass', detail: expect.stringMatching(/every node's key is in .*\(4\)$/)})

    const knownHosts = labInventoryCopy().replace(/lab\.yml$/, 'known_hosts')
    const inventory = labInventoryCopy((inv) => {
      writeFileSync(
        knownHosts,
        readFileSync(inv.ssh.knownHosts, 'utf8')
          .split('\n')
          .filter((l: string) => !l.startsWith('198.18.0.12 '))
          .join('\n'),
      )
      inv.ssh.knownHosts = knownHosts
    })
    const missing = await runCtl(['doctor', inventory, '--json'])
    expect(missing.exitCode).toBe(1)
    expect(json(missing).results.find((r: any) => r.check === 'known-hosts')).toMatchObject({status: 'fail', detail: expect.stringContaining(': h2')})
    const table = await runCtl(['doctor', inventory])
    expect(table.stdout).toMatch(/^known-hosts +lab +FAIL +1 of 4 nodes have no key/m)
    expect(table.stdout).toMatch(/hint: ctl ssh trust lab/)
  })
})
