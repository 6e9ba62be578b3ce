import {describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {cluster, control, ensureHealthy, member, members, psql, streamingFrom, waitFor} from './support/patroni.js'

// The lab's Patroni: one leader and two replicas streaming (seen in the leader's pg_stat_replication,
// not only in Patroni's status); `patroni-leader-loss` really kills the leader; `lab up` repairs it.

describe('lab patroni', () => {
  it('runs one leader and two replicas streaming from it (pg_stat_replication)', async () => {
    const leader = await ensureHealthy()
    const view = await cluster()
    expect(view.filter((m) => m.role === 'leader').map((m) => m.name)).toEqual([leader])
    expect(view.filter((m) => m.role === 'replica')).toHaveLength(2)
    expect(await streamingFrom(leader)).toEqual(members.map((m) => m.name).filter((n) => n !== leader))
    // Replicas really are read-only replicas of it.
    for (const m of members.filter((x) => x.name !== leader)) expect(await psql(m.address, 'select pg_is_in_recovery()')).toBe('t')
    expect(await psql(member(leader).address, 'select pg_is_in_recovery()')).toBe('f')

    const status = json(await runCtl(['lab', 'status', '--json']))
    const rows = status.rows.filter((r: {component: string}) => r.component === 'patroni' || r.component === 'etcd')
    expect(rows).toHaveLength(7)
    expect(rows.filter((r: {ok: boolean}) => !r.ok)).toEqual([])
  })

  it("patroni-leader-loss kills the leader's Patroni and PostgreSQL; lab up brings it back as a streaming replica", async () => {
    const leader = await ensureHealthy()
    const old = member(leader)
    const broke = await runCtl(['lab', 'break', 'patroni-leader-loss', '--yes', '--json'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    expect(json(broke).message).toContain(`leader ${leader}`)
    // Its REST API and PostgreSQL no longer answer; its control script says stopped.
    await expect(fetch(`http://${old.address}:8008/patroni`, {signal: AbortSignal.timeout(3000)})).rejects.toThrow()
    await expect(psql(old.address, 'select 1')).rejects.toThrow()
    expect(await control(leader, 'status')).toBe(3)
    // Patroni elects another leader after the ttl; lab up restarts the old one, which rejoins.
    const newLeader = await waitFor('a new leader', async () => {
      const l = (await cluster()).find((m) => m.role === 'leader' && m.state === 'running')?.name
      return l && l !== leader ? l : undefined
    })
    const up = await runCtl(['lab', 'up', '--only', 'patroni', '--json'], {timeoutMs: 300_000})
    expect(up.exitCode, up.stdout).toBe(0)
    expect(await waitFor('the old leader streaming', async () => ((await streamingFrom(newLeader)).includes(leader) ? true : undefined))).toBe(true)
    // lab up waits until it serves reads: a standby streams before it is consistent.
    expect(await psql(old.address, 'select pg_is_in_recovery()')).toBe('t')
  })
})
