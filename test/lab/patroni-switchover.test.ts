import {execFileSync} from 'node:child_process'
import {execa} from 'execa'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {afterAll, describe, expect, it} from 'vitest'
import {json, projectRoot, runCtl} from '../support/cli.js'
import {control, ensureHealthy, leaderName, member, members, psql, streamingFrom, waitFor, WRITE_ENDPOINT, writeOn} from './support/patroni.js'

// patroni-switchover against the lab's real cluster: a switchover to a chosen replica completes, the
// new leader takes writes, the old one streams from it; lagging or stopped candidates are refused.

/** The pid of a member's walreceiver (a child of its postmaster; the lab hosts share this machine). */
function walReceiverPid(name: string): number {
  const postmaster = readFileSync(`/var/lib/ctl-lab/${member(name).node}/patroni/data/postmaster.pid`, 'utf8').split('\n')[0]!
  return Number(execFileSync('pgrep', ['-P', postmaster, '-f', 'walreceiver']).toString().trim().split('\n')[0])
}

const LAB_INVENTORY = `${projectRoot}/inventories/lab.yml`
/** The lab's inventory with a 3 s PAUSE limit, beside it (its secret paths stay right). */
const SHORT_PAUSE = `${projectRoot}/inventories/lab-short-pause.yml`

const otherReplica = (leader: string, not?: string) => members.map((m) => m.name).find((n) => n !== leader && n !== not)!

describe('runbook patroni-switchover', () => {
  afterAll(async () => {
    await ensureHealthy()
  })

  it('switches to the chosen replica: writes succeed there, the old leader streams from it, the write endpoint follows', async () => {
    const leader = await ensureHealthy()
    const candidate = otherReplica(leader)
    const started = Date.now()
    const run = await runCtl(['runbook', 'patroni-switchover', 'lab', '--candidate', candidate, '--yes', '--json'])
    const commandMs = Date.now() - started
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    expect(result.outcome).toBe('ok')
    expect(result.summary).toMatchObject({
      leader: candidate,
      previousLeader: leader,
      writeEndpoint: {reachesNewLeader: true, server: member(candidate).address},
    })
    expect(result.summary.patroniReply).toBe(`Successfully switched over to "${candidate}"`)
    process.stderr.write(`[patroni-switchover] request → writable new leader: ${result.summary.writableAfterMs} ms; whole command: ${commandMs} ms\n`)

    // Checked here on its own: Patroni's leader, a real write, and pg_stat_replication.
    expect(await leaderName()).toBe(candidate)
    await writeOn(candidate, `switchover-${started}`)
    expect(await streamingFrom(candidate)).toContain(leader)
    expect(await psql(member(leader).address, `select count(*) from ctl_lab_probe where token = 'switchover-${started}'`)).toBe('1')
    expect(await psql(WRITE_ENDPOINT.host, 'select host(inet_server_addr())', {port: WRITE_ENDPOINT.port})).toBe(member(candidate).address)
  })

  it('refuses a lagging candidate with the reason, and changes nothing', async () => {
    const leader = await ensureHealthy()
    const candidate = otherReplica(leader)
    // Freeze the candidate's WAL receiver (Patroni resumes a paused replay by itself): the leader
    // still lists it as streaming while its replay falls behind.
    const receiver = walReceiverPid(candidate)
    process.kill(receiver, 'SIGSTOP')
    try {
      // ~5 MB of WAL the frozen replica does not get.
      await psql(
        member(leader).address,
        "drop table if exists ctl_lab_lag; create table ctl_lab_lag as select repeat('x', 1000) as pad from generate_series(1, 5000)",
      )
      await waitFor('replay lag above 1 MiB', async () => {
        const lag = Number(
          await psql(
            member(leader).address,
            `select pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) from pg_stat_replication where application_name = '${candidate}' and state = 'streaming'`,
          ),
        )
        return lag > 1048576 ? lag : undefined
      })
      const run = await runCtl(['runbook', 'patroni-switchover', 'lab', '--candidate', candidate, '--yes', '--json'])
      const result = json(run)
      expect(run.exitCode).toBe(2)
      expect(result.outcome).toBe('refused')
      expect(result.error.message).toMatch(new RegExp(`${candidate} cannot take over: it lags .* MiB, more than the 1.0 MiB the inventory allows`))
      expect(result.steps.find((s: {id: string}) => s.id === 'switchover').status).toBe('pending')
      expect(await leaderName()).toBe(leader)
    } finally {
      process.kill(receiver, 'SIGCONT')
      await psql(member(leader).address, 'drop table if exists ctl_lab_lag')
    }
  })

  it('refuses a stopped candidate with the reason', async () => {
    const leader = await ensureHealthy()
    const candidate = otherReplica(leader)
    expect(await control(candidate, 'stop')).toBe(0)
    try {
      const run = await runCtl(['runbook', 'patroni-switchover', 'lab', '--candidate', candidate, '--yes', '--json'])
      const result = json(run)
      expect(run.exitCode).toBe(2)
      expect(result.error.message).toBe(`Switchover refused: ${candidate} cannot take over: its Patroni API does not answer (state stopped)`)
      expect(await leaderName()).toBe(leader)
    } finally {
      expect(await control(candidate, 'start')).toBe(0)
    }
  })

  it('refuses a paused cluster', async () => {
    const leader = await ensureHealthy()
    const pause = (value: boolean) =>
      fetch(`http://${member(leader).address}:8008/config`, {method: 'PATCH', body: JSON.stringify({pause: value}), signal: AbortSignal.timeout(5000)})
    expect((await pause(true)).status).toBe(200)
    try {
      const run = await runCtl(['runbook', 'patroni-switchover', 'lab', '--candidate', otherReplica(leader), '--yes', '--json'])
      expect(run.exitCode).toBe(2)
      expect(json(run).error.message).toBe('Switchover refused: the cluster is paused (maintenance mode): Patroni would not manage the switchover')
    } finally {
      expect((await pause(false)).status).toBe(200)
    }
  })

  it('--scheduled-at leaves the switchover to Patroni (202) and stops there', async () => {
    const leader = await ensureHealthy()
    const candidate = otherReplica(leader)
    const at = new Date(Date.now() + 3600_000).toISOString()
    const run = await runCtl(['runbook', 'patroni-switchover', 'lab', '--candidate', candidate, '--scheduled-at', at, '--yes', '--json'])
    const result = json(run)
    try {
      expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
      expect(result.finishedEarly).toContain(`Switchover scheduled at ${at}`)
      expect(result.summary.patroniReply).toBe('Switchover scheduled')
      const view = (await (await fetch(`http://${member(leader).address}:8008/cluster`)).json()) as {scheduled_switchover?: {from: string; to: string}}
      expect(view.scheduled_switchover).toMatchObject({from: leader, to: candidate})
      expect(await leaderName()).toBe(leader)
    } finally {
      await fetch(`http://${member(leader).address}:8008/switchover`, {method: 'DELETE'})
    }
  })

  it('without --candidate and without a terminal, asks for --candidate instead of choosing', async () => {
    await ensureHealthy()
    const run = await runCtl(['runbook', 'patroni-switchover', 'lab', '--yes', '--json'])
    expect(run.exitCode).toBe(2)
    expect(json(run).error.hint).toContain('--candidate')
  })

  /** New connection and INSERT through `port` every 50 ms until stopped: each write's outcome and how long it took. */
  function writer(port: number, tag: string) {
    const outcomes: {ok: boolean; ms: number; error?: string}[] = []
    let stop = false
    const done = (async () => {
      while (!stop) {
        const started = Date.now()
        try {
          await psql(WRITE_ENDPOINT.host, `insert into ctl_pgb_writes (path) values ('${tag}')`, {port})
          outcomes.push({ok: true, ms: Date.now() - started})
        } catch (error) {
          outcomes.push({ok: false, ms: Date.now() - started, error: (error as Error).message})
        }
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    return {outcomes, stop: async () => ((stop = true), await done)}
  }

  it('through PgBouncer: ctl pauses it around the switch, no write through it fails; the check sees it reach the new leader', async () => {
    const leader = await ensureHealthy()
    await psql(WRITE_ENDPOINT.host, 'create table if not exists ctl_pgb_writes (path text, at timestamptz default now()); truncate ctl_pgb_writes', {
      port: WRITE_ENDPOINT.port,
    })
    const viaBouncer = writer(6432, 'pgbouncer')
    await new Promise((r) => setTimeout(r, 1500))
    const run = await runCtl(['runbook', 'patroni-switchover', 'lab', '--candidate', otherReplica(leader), '--yes', '--json'])
    await new Promise((r) => setTimeout(r, 1500))
    await viaBouncer.stop()
    const result = json(run)
    expect(run.exitCode, JSON.stringify(result.error)).toBe(0)
    expect(result.summary.leader).not.toBe(leader)
    expect(result.summary.pgbouncerPausedMs).toBeGreaterThan(0)
    const failed = viaBouncer.outcomes.filter((o) => !o.ok)
    expect(failed, JSON.stringify(failed.slice(0, 3))).toEqual([])
    const ok = viaBouncer.outcomes.length
    expect(ok).toBeGreaterThan(10)
    // Every write that succeeded is there, on the new leader.
    expect(Number(await psql(member(result.summary.leader).address, "select count(*) from ctl_pgb_writes where path = 'pgbouncer'"))).toBe(ok)
    const longest = Math.max(...viaBouncer.outcomes.map((o) => o.ms))
    process.stderr.write(
      `[patroni-switchover] through PgBouncer: ${ok} writes, 0 failed, longest ${longest} ms, paused ${result.summary.pgbouncerPausedMs} ms\n`,
    )
    const check = json(await runCtl(['check', 'run', 'lab', 'patroni', '--json']))
    expect(check.results.find((r: any) => r.target === 'pgbouncer')).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining(`reaches the leader ${result.summary.leader}`),
    })
  })

  it('a PgBouncer left paused fails the check with RESUME as the hint; a PAUSE that cannot finish refuses the switchover and resumes it', async () => {
    const leader = await ensureHealthy()
    await psql(WRITE_ENDPOINT.host, 'PAUSE', {port: 6432, db: 'pgbouncer'})
    try {
      const check = json(await runCtl(['check', 'run', 'lab', 'patroni', '--json']))
      expect(check.results.find((r: any) => r.target === 'pgbouncer')).toMatchObject({status: 'fail', hint: expect.stringContaining('RESUME')})
    } finally {
      await psql(WRITE_ENDPOINT.host, 'RESUME', {port: 6432, db: 'pgbouncer'})
    }
    // A client holds a transaction open through PgBouncer: PAUSE waits for it, past the inventory's limit (3 s here).
    writeFileSync(
      SHORT_PAUSE,
      readFileSync(LAB_INVENTORY, 'utf8').replace('pgbouncer: {node: h1, port: 6432}', 'pgbouncer: {node: h1, port: 6432, pauseTimeoutSeconds: 3}'),
    )
    const holder = execa(
      'psql',
      [
        '-X',
        '-q',
        '-h',
        WRITE_ENDPOINT.host,
        '-p',
        '6432',
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-c',
        'begin; select txid_current(); select pg_sleep(60); commit;',
      ],
      {env: {PGPASSWORD: readFileSync(`${projectRoot}/.lab/patroni-superuser.password`, 'utf8').trim()}, reject: false},
    )
    await new Promise((r) => setTimeout(r, 1000))
    try {
      const run = await runCtl(['runbook', 'patroni-switchover', SHORT_PAUSE, '--candidate', otherReplica(leader), '--yes', '--json'])
      const result = json(run)
      expect(run.exitCode).toBe(2)
      expect(result.error.code).toBe('pgbouncer.pause-failed')
      expect(await leaderName()).toBe(leader)
      // Resumed: a new client gets through.
      expect(await psql(WRITE_ENDPOINT.host, 'select 1', {port: 6432})).toBe('1')
    } finally {
      holder.kill()
      await holder
      rmSync(SHORT_PAUSE, {force: true})
    }
  })
})
