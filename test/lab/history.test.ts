import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {json, projectRoot, runCtl} from '../support/cli.js'
import {deployApp, ensureSwarm} from './support/app.js'
import {labInventoryCopy} from './support/swarm.js'

// The shared history on the lab: two operators (each with its own state directory, so its own local
// audit log) deploy and run a runbook; each one's `ctl history lab` shows both, in order, from the
// platform (history-lab.jsonl beside the deploy lock on h1). A platform that cannot take the line
// does not fail the command, which says so.

const HISTORY = '/var/lib/ctl/locks/history-lab.jsonl'
const operator = (name: string) => ({CTL_OPERATOR: name, XDG_STATE_HOME: mkdtempSync(join(tmpdir(), `ctl-${name}-`))})

describe('ctl history (lab)', () => {
  const alice = operator('alice')
  const bob = operator('bob')

  beforeAll(async () => {
    await ensureSwarm()
    await deployApp('v1')
    rmSync(HISTORY, {force: true})
  })

  it("two operators' deploys and runbook, newest first, in each one's ctl history; each local audit log keeps only its own", async () => {
    await deployApp('v2', alice)
    const snapshot = await runCtl(['runbook', 'etcd-snapshot', 'lab', '--yes'], {env: bob})
    expect(snapshot.exitCode, snapshot.stderr).toBe(0)
    await deployApp('v1', alice)
    // Read-only runs are not history.
    expect((await runCtl(['check', 'run', 'lab', 'swarm'], {env: bob})).exitCode).toBe(0)

    for (const who of [alice, bob]) {
      const history = await runCtl(['history', 'lab', '--json'], {env: who})
      expect(history.exitCode, history.stderr).toBe(0)
      const entries = json(history).entries as any[]
      expect(entries.map((e) => `${e.operator} ${e.command.split(' ')[0]} ${e.outcome}`)).toEqual([
        'alice deploy ok',
        'bob runbook:etcd-snapshot ok',
        'alice deploy ok',
      ])
      expect(entries[0].command).toContain('app=v1')
      expect(entries[2].command).toContain('app=v2')
      expect(entries[0].durationMs).toBeGreaterThan(0)
    }
    const table = await runCtl(['history', 'lab', '--operator', 'bob'], {env: alice})
    expect(table.stdout.trim().split('\n')).toHaveLength(1)
    expect(table.stdout).toMatch(/ bob +ok +\d+\.\ds {2}ctl runbook etcd-snapshot lab --yes$/m)
    expect(json(await runCtl(['history', 'lab', '--since', '1d', '--json'])).entries).toHaveLength(3)
    expect(json(await runCtl(['history', 'lab', '--since', '2000-01-01', '--operator', 'nobody', '--json'])).entries).toEqual([])
    // Each local audit log has its own runs only.
    expect(readFileSync(join(alice.XDG_STATE_HOME, 'ctl', 'audit.log'), 'utf8')).not.toContain('"operator":"bob"')
    // No secret of the inventory reaches the platform's copy.
    const text = readFileSync(HISTORY, 'utf8')
    for (const secret of ['registry-password', 'redis-password']) expect(text).not.toContain(readFileSync(join(projectRoot, '.lab', secret), 'utf8').trim())
  })

  it('a platform that cannot take the line: the command still succeeds and says its run is only in the local audit log', async () => {
    const inventory = labInventoryCopy((inv) => {
      inv.deployLock = {dir: '/proc/ctl-cannot-write-here'}
    })
    const run = await runCtl(['exec', inventory, '--node', 'h2', '--', 'true'], {env: alice})
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/this run is not in lab's shared history on h1 \(.*\); it is in the local audit log/)
    expect(existsSync('/proc/ctl-cannot-write-here')).toBe(false)
  })
})
