import {afterAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {cluster, ensureHealthy, leaderName, members, streamingFrom, waitFor, writeOn} from './support/patroni.js'

// After `ctl lab break patroni-leader-loss`, patroni-failover gives a writable leader (and brings the
// old one back as a replica); with a healthy leader it refuses.

describe('runbook patroni-failover', () => {
  afterAll(async () => {
    await ensureHealthy()
  })

  it('refuses while the leader is healthy', async () => {
    const leader = await ensureHealthy()
    const candidate = members.map((m) => m.name).find((n) => n !== leader)!
    const run = await runCtl(['runbook', 'patroni-failover', 'lab', '--candidate', candidate, '--yes', '--json'])
    expect(run.exitCode).toBe(2)
    expect(json(run).error.message).toBe(`Failover refused: ${leader} is a healthy leader: a failover is not needed`)
    expect(await leaderName()).toBe(leader)
  })

  it('after patroni-leader-loss, promotes the candidate to a writable leader and the old leader rejoins', async () => {
    const leader = await ensureHealthy()
    const candidate = members.map((m) => m.name).find((n) => n !== leader)!
    const broke = await runCtl(['lab', 'break', 'patroni-leader-loss', '--yes'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    const run = await runCtl(['runbook', 'patroni-failover', 'lab', '--candidate', candidate, '--yes', '--json'])
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    expect(result.summary).toMatchObject({leader: candidate})
    // The runbook starts the old leader when it is still down (on the shared lab another run's
    // `lab up` may have restarted it already: then the step is skipped and it rejoins by itself).
    const rejoin = result.steps.find((s: {id: string}) => s.id === 'rejoin-stopped-members')
    if (rejoin.status === 'done') expect(result.summary.rejoin).toContainEqual({member: leader, started: true, streaming: true})
    else expect(rejoin.status).toBe('skipped')
    process.stderr.write(`[patroni-failover] request → writable leader: ${result.summary.writableAfterMs} ms (may lose ${result.summary.mayHaveLostBytes} B)\n`)
    await writeOn(candidate, `failover-${Date.now()}`)
    expect((await cluster()).find((m) => m.role === 'leader')?.name).toBe(candidate)
    expect(await waitFor('the old leader streaming', async () => ((await streamingFrom(candidate)).includes(leader) ? true : undefined))).toBe(true)
  })
})
