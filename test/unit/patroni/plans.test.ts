import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadInventory} from '../../../src/inventory/load.js'
import {patroniFailover} from '../../../src/runbooks/patroni-failover.js'
import {patroniSwitchover} from '../../../src/runbooks/patroni-switchover.js'
import {pgRestore} from '../../../src/runbooks/pg-restore.js'

// The plans show the exact commands the steps run (the same builders act uses), on the lab inventory.
const loaded = loadInventory(join(import.meta.dirname, '..', '..', '..', 'inventories', 'lab.yml'))
const step = (runbook: {steps: {id: string}[]}, id: string) => runbook.steps.find((s) => s.id === id) as any
const PSQL =
  'IFS= read -r p; if [ -n "$p" ]; then PGPASSWORD=$p; export PGPASSWORD; fi; PGCONNECT_TIMEOUT=5; export PGCONNECT_TIMEOUT; exec psql -X -A -t -q -v ON_ERROR_STOP=1'

describe('runbook plans', () => {
  it('patroni-switchover pauses PgBouncer, posts to the leader, probes the candidate, resumes PgBouncer', () => {
    const plan = step(patroniSwitchover, 'switchover').plan({members: [], verdicts: [], leader: 'pg-h1', candidate: 'pg-h2'}, loaded)
    const bouncer = `${PSQL} -h 198.18.0.11 -p 6432 -U postgres -d dbname=pgbouncer`
    expect(plan.summary).toBe('Switch the leader from pg-h1 to pg-h2, PgBouncer on h1 paused meanwhile')
    expect(plan.commands).toEqual([
      {node: 'h1', command: bouncer, note: expect.stringMatching(/^password on stdin, then: PAUSE;/)},
      {
        node: 'h1',
        command:
          "curl -sS --max-time 60 -X POST -w '__ctl_http_status=%{http_code}' -H 'Content-Type: application/json' --data-binary @- http://198.18.0.11:8008/switchover",
        note: 'body on stdin: {"leader":"pg-h1","candidate":"pg-h2"}',
      },
      {node: 'h2', command: `${PSQL} -h 198.18.0.12 -p 5432 -U postgres -d dbname=postgres`, note: expect.stringContaining('txid_current()')},
      {node: 'h1', command: bouncer, note: expect.stringContaining('RESUME;')},
    ])
    // A scheduled switchover happens later, without ctl: PgBouncer is not paused for it.
    const scheduled = step(patroniSwitchover, 'switchover').plan(
      {members: [], verdicts: [], leader: 'pg-h1', candidate: 'pg-h2', scheduledAt: '2030-01-01T00:00:00Z'},
      loaded,
    )
    expect(scheduled.commands.map((c: {command: string}) => c.command)).not.toContain(bouncer)
  })

  it("patroni-switchover checks the write endpoint from the new leader's node", () => {
    const plan = step(patroniSwitchover, 'write-endpoint').plan(
      {members: [], verdicts: [], leader: 'pg-h1', candidate: 'pg-h3', writable: {afterMs: 1, xid: '1'}},
      loaded,
    )
    expect(plan.commands.map((c: {node: string; command: string}) => [c.node, c.command])).toEqual([
      ['h3', `${PSQL} -h 198.18.0.11 -p 5000 -U postgres -d dbname=postgres`],
    ])
  })

  it('patroni-failover restarts the members that are down with their inventory control', () => {
    const facts = {
      members: [
        {name: 'pg-h1', reachable: false},
        {name: 'pg-h2', reachable: true},
        {name: 'pg-h3', reachable: true},
      ],
    }
    const plan = step(patroniFailover, 'rejoin-stopped-members').plan({members: [], candidate: 'pg-h2', facts}, loaded)
    expect(plan.commands).toEqual([{node: 'h1', command: '/var/lib/ctl-lab/h1/bin/ctl-lab-patroni start'}])
  })

  it('pg-restore creates the database on the leader and restores from the node holding the file', () => {
    const state = {file: '/b/x.dump', replace: false, stamp: 'S', leader: 'pg-h2', node: 'h3', target: 'shop_copy', targetExists: false}
    const plan = step(pgRestore, 'restore').plan(state, loaded)
    expect(plan.commands).toEqual([
      {
        node: 'h2',
        command: `${PSQL} -h 198.18.0.12 -p 5432 -U postgres -d dbname=postgres`,
        note: 'password on stdin, then: CREATE DATABASE "shop_copy" TEMPLATE template0',
      },
      {
        node: 'h3',
        command:
          'IFS= read -r p; if [ -n "$p" ]; then PGPASSWORD=$p; export PGPASSWORD; fi; PGCONNECT_TIMEOUT=5; export PGCONNECT_TIMEOUT; pg_restore -h 198.18.0.12 -p 5432 -U postgres -d dbname=shop_copy --exit-on-error -j 2 /b/x.dump',
        note: 'password on stdin',
      },
    ])
    expect(step(pgRestore, 'replace').plan(state, loaded).skip).toBe('shop_copy does not exist: restored as a new database')
  })
})
