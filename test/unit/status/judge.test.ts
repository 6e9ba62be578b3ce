import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {CheckResult} from '../../../src/checks/types.js'
import type {ServiceView} from '../../../src/deploy/swarm-state.js'
import {inventorySchema} from '../../../src/inventory/schema/index.js'
import {renderCommand} from '../../../src/lib/shell.js'
import {listLocksScript, parseLockList} from '../../../src/locks/lock.js'
import {buildStatus, clusterLine, groupLocks, imageVersion, OFFSITE_REUSE_MS, reuseOffsite, STATUS_CHECKS, type StatusFacts} from '../../../src/status/judge.js'
import {renderStatus} from '../../../src/status/render.js'
import type {SwarmNodeView} from '../../../src/swarm/views.js'

const inventory = inventorySchema.parse({
  name: 'prod',
  nodes: [
    {name: 'h1', address: '10.0.0.1', role: 'manager'},
    {name: 'h2', address: '10.0.0.2', role: 'manager'},
    {name: 'h3', address: '10.0.0.3', role: 'manager'},
  ],
  stacks: [{name: 'app', files: ['app.yml']}],
  services: [{name: 'web', stack: 'app'}],
})
const row = (check: string, target: string, status: CheckResult['status'], detail: string, hint?: string): CheckResult => ({
  check,
  title: check,
  target,
  status,
  detail,
  durationMs: 1,
  ...(hint ? {hint} : {}),
})
const healthyRows: CheckResult[] = [
  ...['h1', 'h2', 'h3'].map((h) => row('ssh', h, 'pass', 'connected')),
  ...['h1', 'h2', 'h3'].map((h) => row('swarm', h, 'pass', `Ready, Active, manager${h === 'h1' ? ' (leader)' : ''}`)),
  row('swarm', 'managers', 'pass', '3 managers, quorum 2, leader h1'),
  row('service-health', 'web', 'pass', '2/2 replicas running, 2/2 /health answered 200'),
  ...['h1', 'h2', 'h3'].map((h) => row('galera', h, 'pass', 'Primary, Synced, size 3/3')),
  row('patroni', 'leader', 'pass', 'h2'),
  row('patroni', 'h1', 'pass', 'streaming from h2, replay lag 0 B'),
  row('backups', 'mariadb', 'pass', 'newest h3:/backups/x, 2.0 h old (RPO 24 h)'),
]
const swarmNode = (name: string, leader: boolean, state = 'ready'): SwarmNodeView => ({
  id: name,
  hostname: name,
  address: `10.0.0.${name.slice(1)}`,
  role: 'manager',
  availability: 'active',
  state,
  leader,
  labels: {},
  version: 1,
  spec: {},
})
const web: ServiceView = {
  name: 'app_web',
  image: 'registry.example/web:2024-06-01.3@sha256:abc',
  replicas: 2,
  updateState: 'completed',
  tasks: [1, 2].map((slot) => ({id: `t${slot}`, slot, state: 'running', desiredState: 'running', image: 'x', current: true, createdAt: ''})),
}
const facts = (over: Partial<StatusFacts> = {}): StatusFacts => ({
  env: 'prod',
  inventory,
  now: new Date('2026-12-07T12:00:00Z'),
  durationMs: 900,
  rows: healthyRows,
  swarm: {nodes: ['h1', 'h2', 'h3'].map((h) => swarmNode(h, h === 'h1')), services: [web]},
  releases: [
    {
      id: 3,
      service: 'web',
      swarmName: 'app_web',
      image: 'web:1',
      kind: 'deploy',
      who: 'bob',
      from: 'b',
      at: '2026-12-06T12:00:00Z',
      message: '',
      outcome: 'ok',
    },
    {
      id: 4,
      service: 'web',
      swarmName: 'app_web',
      image: 'web:2',
      kind: 'deploy',
      who: 'alice',
      from: 'a',
      at: '2026-12-07T11:50:00Z',
      message: '',
      outcome: 'ok',
    },
  ],
  locks: [],
  recent: [],
  ...over,
})

describe('ctl status: the report from what was read', () => {
  it('a healthy platform: no problem, exit 0, every part filled in', () => {
    const report = buildStatus(facts())
    expect(report.problems).toEqual([])
    expect(report.exitCode).toBe(0)
    expect(report.nodes.map((n) => [n.name, n.reachable, n.leader, n.state])).toEqual([
      ['h1', true, true, 'ready'],
      ['h2', true, false, 'ready'],
      ['h3', true, false, 'ready'],
    ])
    expect(report.services).toEqual([
      expect.objectContaining({
        name: 'web',
        image: 'registry.example/web:2024-06-01.3',
        version: '2024-06-01.3',
        running: 2,
        desired: 2,
        updateState: 'completed',
        health: 'pass',
        lastRelease: expect.objectContaining({id: 4, who: 'alice', at: '2026-12-07T11:50:00Z'}),
      }),
    ])
    expect(report.clusters.map((c) => [c.name, c.state, c.leader])).toEqual([
      ['swarm', 'ok', 'h1'],
      ['patroni', 'ok', 'h2'],
      ['galera', 'ok', undefined],
    ])
    expect(report.clusters.find((c) => c.name === 'galera')!.summary).toBe('Primary, Synced, size 3/3 (all 3 ok)')
    expect(report.backups).toEqual([{component: 'mariadb', status: 'pass', detail: 'newest h3:/backups/x, 2.0 h old (RPO 24 h)'}])
  })

  it('puts failures first and causes before symptoms: the database before the app that fails its /health because of it', () => {
    const rows = healthyRows.map((r) =>
      r.check === 'service-health'
        ? row('service-health', 'web', 'fail', '2/2 /health answers wrong: HTTP 503', 'ctl rollback prod web')
        : r.check === 'galera' && r.target === 'h3'
          ? row('galera', 'h3', 'fail', 'mariadbd is not running', 'ctl runbook galera-recover prod')
          : r,
    )
    const report = buildStatus(facts({rows: [row('backups', 'postgres', 'warn', 'old-ish'), ...rows]}))
    expect(report.problems.map((p) => `${p.severity} ${p.area} ${p.target}`)).toEqual(['fail galera h3', 'fail service-health web', 'warn backups postgres'])
    expect(report.problems[0]!.hint).toBe('ctl runbook galera-recover prod')
    expect(report.exitCode).toBe(1)
    expect(report.clusters.find((c) => c.name === 'galera')).toMatchObject({state: 'degraded', summary: 'h3: mariadbd is not running'})
  })

  it('within one check, the member that is down before those that only see it gone', () => {
    const rows = healthyRows.map((r) =>
      r.check === 'galera' ? row('galera', r.target, 'fail', r.target === 'h3' ? 'mariadbd is not running' : 'Primary, Synced, size 2/3') : r,
    )
    const report = buildStatus(facts({rows}))
    expect(report.problems.map((p) => p.target)).toEqual(['h3', 'h1', 'h2'])
    expect(report.clusters.find((c) => c.name === 'galera')!.state).toBe('degraded')
    const rabbit = [
      row('rabbitmq', 'h1', 'fail', 'the cluster runs 2 of 3 nodes: rabbit@10.0.0.2 not running'),
      row('rabbitmq', 'h2', 'fail', 'rabbit@10.0.0.2 does not answer: no answer'),
    ]
    expect(buildStatus(facts({rows: [...healthyRows, ...rabbit]})).problems.map((p) => p.target)).toEqual(['h2', 'h1'])
  })

  it('a host that cannot be reached comes first; a part that could not be read alone gives exit 2', () => {
    const down = healthyRows.map((r) => (r.check === 'ssh' && r.target === 'h2' ? row('ssh', 'h2', 'fail', 'Cannot connect to h2') : r))
    const report = buildStatus(facts({rows: [...down, row('galera', 'h2', 'error', 'not run: h2 is unreachable over SSH')]}))
    expect(report.problems[0]).toMatchObject({severity: 'fail', area: 'ssh', target: 'h2'})
    expect(report.nodes.find((n) => n.name === 'h2')!.reachable).toBe(false)
    const unread = buildStatus(facts({swarm: undefined, swarmError: 'No manager of the swarm answers'}))
    expect(unread.problems).toEqual([{severity: 'error', area: 'swarm-read', target: 'swarm', detail: 'No manager of the swarm answers'}])
    expect(unread.exitCode).toBe(2)
    expect(unread.services[0]).toMatchObject({image: 'web:2', lastRelease: expect.objectContaining({id: 4})})
  })

  it('a cluster is down when every member fails, unknown when none could be read', () => {
    const names = new Set(['h1', 'h2', 'h3'])
    const fail = (h: string) => row('galera', h, 'fail', 'mariadbd is not running')
    expect(clusterLine('galera', ['h1', 'h2', 'h3'].map(fail), names)?.state).toBe('down')
    expect(clusterLine('galera', [fail('h1'), row('galera', 'h2', 'error', 'not run'), row('galera', 'h3', 'error', 'not run')], names)?.state).toBe('down')
    expect(clusterLine('vault', [row('vault', 'h1', 'error', 'timed out')], names)?.state).toBe('unknown')
    expect(clusterLine('redis', [row('redis', 'mymaster', 'fail', 'no master')], names)?.state).toBe('down')
    expect(clusterLine('vault', [row('vault', 'raft', 'pass', 'active h2, 3 Raft peers')], names)?.leader).toBe('h2')
    const redis = [
      row('redis', 'h1', 'pass', 'replica of 10.0.0.3:6379, link up, 0 bytes behind'),
      row('redis', 'h3', 'pass', 'master, 2 of 2 replicas online, offset 9'),
    ]
    expect(clusterLine('redis', redis, names)?.leader).toBe('h3')
    expect(clusterLine('etcd', [row('etcd', '-', 'skip', 'no etcd')], names)).toBeUndefined()
  })

  it('reads the image version from a tag or a digest', () => {
    expect(imageVersion('reg:5000/team/web:v2')).toBe('v2')
    expect(imageVersion('web@sha256:0123456789abcdef0123')).toBe('sha256:0123456789ab')
    expect(imageVersion('web')).toBeUndefined()
  })

  it('reads the locks with a real shell: this env’s deploy lock and a run lock on two hosts become two lines; a stale one is a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-status-locks-'))
    const plant = (name: string, info: object, ageSeconds: number) => {
      mkdirSync(join(dir, `${name}.lock`))
      writeFileSync(join(dir, `${name}.lock`, 'info.json'), JSON.stringify(info))
      const at = (Date.now() - ageSeconds * 1000) / 1000
      utimesSync(join(dir, `${name}.lock`), at, at)
    }
    const now = new Date()
    plant('deploy-prod', {id: 'd1', holder: 'alice', from: 'laptop', since: now.toISOString(), env: 'prod', what: 'deploying web=web:3'}, 5)
    const old = new Date(now.getTime() - 3600_000).toISOString()
    for (const h of ['h1', 'h2']) plant(`runbook-galera-prod.${h}`, {id: 'r1', holder: 'bob', since: old, env: 'prod', what: 'galera-recover run x'}, 3600)
    plant('deploy-staging', {id: 's1', holder: 'carol', since: now.toISOString(), env: 'staging', what: 'deploying'}, 1)
    writeFileSync(join(dir, 'history-prod.jsonl'), '{}\n')
    const listed = parseLockList(execFileSync('sh', ['-c', renderCommand(listLocksScript(dir))], {encoding: 'utf8'}))
    expect(listed.map((l) => l.name).sort()).toEqual(['deploy-prod', 'deploy-staging', 'runbook-galera-prod.h1', 'runbook-galera-prod.h2'])
    const deploy = listed.find((l) => l.name === 'deploy-prod')!
    expect(deploy.view.info.holder).toBe('alice')
    expect(deploy.view.heartbeatAgeSeconds).toBeGreaterThanOrEqual(4)
    const sightings = listed.map((l) => ({node: l.name.endsWith('.h2') ? 'h2' : 'h1', ...l}))
    const locks = groupLocks('prod', sightings, {deploy: 60, runbook: 5}, now)
    expect(locks.map((l) => [l.kind, l.name, l.nodes, l.holder, l.stale])).toEqual([
      ['deploy', 'deploy-prod', ['h1'], 'alice@laptop', false],
      ['runbook', 'runbook-galera-prod', ['h1', 'h2'], 'bob', true],
    ])
    const report = buildStatus(facts({locks: sightings, now}))
    expect(report.problems).toEqual([expect.objectContaining({severity: 'warn', area: 'lock', target: 'runbook-galera-prod'})])
    expect(report.exitCode).toBe(0)
  })

  it('renders problems first with their hints, in colour only when asked', () => {
    const rows = healthyRows.map((r) =>
      r.check === 'galera' && r.target === 'h3' ? row('galera', 'h3', 'fail', 'mariadbd is not running', 'ctl runbook galera-recover prod') : r,
    )
    const report = buildStatus(facts({rows}))
    const plain = renderStatus(report, false)
    expect(plain[0]).toMatch(/^ctl status prod {2}2026-12-07 12:00:00Z {2}\(0\.9 s\) {2}1 problem$/)
    expect(plain.slice(1, 5)).toEqual(['', 'PROBLEMS', '  FAIL   galera h3: mariadbd is not running', '         → ctl runbook galera-recover prod'])
    expect(plain.join('\n')).not.toContain('\u001B[')
    expect(plain).toContainEqual(
      expect.stringMatching(/^ {2}web +registry\.example\/web:2024-06-01\.3 +2\/2 +completed +ok +#4 deploy by alice 10 min ago \(ok\)$/),
    )
    expect(renderStatus(report, true).join('\n')).toContain('\u001B[31mFAIL ')
    expect(renderStatus(buildStatus(facts()), false)[0]).toMatch(/no problems$/)
  })

  it('reads the checks the status promises, each a registered check', async () => {
    const {allChecks} = await import('../../../src/checks/registry.js')
    for (const id of STATUS_CHECKS) expect(allChecks.map((c) => c.id)).toContain(id)
  })
})

describe('ctl status --watch: the offsite rows of an earlier round', () => {
  const at = 1_000_000
  const passing = [
    row('backups-offsite', 'mariadb', 'pass', 'newest offsite x, 2 h old'),
    row('backups-offsite', 'pgbackrest', 'pass', 'newest offsite y, 3 h old'),
  ]

  it('are shown again while they all passed and are younger than a minute', () => {
    expect(reuseOffsite({rows: passing, readAt: at}, at + 5_000)).toBe(true)
    expect(reuseOffsite({rows: passing, readAt: at}, at + OFFSITE_REUSE_MS)).toBe(false)
  })

  it('are read again every round when one failed or could not be read, so a repair shows at once', () => {
    expect(reuseOffsite({rows: [passing[0]!, row('backups-offsite', 'pgbackrest', 'fail', 'no complete pgbackrest backup offsite')], readAt: at}, at + 1)).toBe(
      false,
    )
    expect(reuseOffsite({rows: [row('backups-offsite', 'mariadb', 'error', 'Listing failed')], readAt: at}, at + 1)).toBe(false)
    expect(reuseOffsite({rows: [row('backups-offsite', '-', 'skip', 'no backups.offsite in the inventory')], readAt: at}, at + 1)).toBe(false)
    expect(reuseOffsite({rows: [], readAt: at}, at + 1)).toBe(false)
  })
})
