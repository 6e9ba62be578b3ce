import {describe, expect, it} from 'vitest'
import {judgeGaleraMember} from '../../../src/checks/all/galera.js'
import {judgeArchiving, judgePatroni, type ArchiverStats} from '../../../src/checks/all/patroni.js'
import {etcdProbeCommand, judgeEtcdMember} from '../../../src/checks/all/etcd.js'
import {judgeVault, judgeVaultTransport} from '../../../src/checks/all/vault.js'
import {parseInventory} from '../../../src/inventory/load.js'
import type {NodeFacts} from '../../../src/galera/facts.js'
import type {ClusterFacts, MemberFacts} from '../../../src/patroni/facts.js'
import type {VaultNodeStatus} from '../../../src/vault/plan.js'

const wsrep = (clusterStatus: string, localState: string, clusterSize: number) => ({
  clusterStatus,
  localState,
  clusterSize,
  clusterUuid: 'u',
  lastCommitted: 5,
  ready: true,
})
const galera = (over: Partial<NodeFacts>): NodeFacts => ({node: 'h1', reachable: true, running: true, ...over})

describe('judgeGaleraMember', () => {
  it.each([
    [galera({status: wsrep('Primary', 'Synced', 3)}), 'pass', 'Primary, Synced, size 3/3'],
    [galera({running: false}), 'fail', 'mariadbd is not running'],
    [galera({status: wsrep('non-Primary', 'Initialized', 1)}), 'fail', 'non-Primary, Initialized, size 1/3'],
    [galera({status: wsrep('Primary', 'Synced', 2)}), 'fail', 'Primary, Synced, size 2/3'],
    [galera({status: wsrep('Primary', 'Donor/Desynced', 3)}), 'warn', 'Primary, Donor/Desynced, size 3/3'],
    [galera({status: wsrep('Primary', 'Joining', 3)}), 'fail', 'Primary, Joining, size 3/3'],
    [galera({sqlError: 'Access denied'}), 'fail', 'mariadbd runs but wsrep status is unreadable: Access denied'],
  ] as const)('%# → %s %s', (facts, status, detail) => {
    const finding = judgeGaleraMember('lab', facts, 3)
    expect([finding.status, finding.detail]).toEqual([status, detail])
    if (status === 'fail' && !facts.running) expect(finding.hint).toContain('ctl runbook galera-recover lab')
  })
})

const member = (name: string, over: Partial<MemberFacts> = {}): MemberFacts => ({
  name,
  node: name,
  address: '10.0.0.1',
  role: 'replica',
  state: 'streaming',
  lagBytes: 0,
  noFailover: false,
  reachable: true,
  streaming: true,
  replayLagBytes: 0,
  ...over,
})
const cluster = (members: MemberFacts[], over: Partial<ClusterFacts> = {}): ClusterFacts => ({
  scope: 's',
  paused: false,
  leader: 'pg1',
  leaderHealthy: true,
  members,
  replication: [],
  ...over,
})

describe('judgePatroni', () => {
  it('passes one healthy leader and streaming replicas under the lag limit', () => {
    const findings = judgePatroni(
      'lab',
      cluster([member('pg1', {role: 'leader', state: 'running'}), member('pg2', {replayLagBytes: 100}), member('pg3')]),
      1048576,
    )
    expect(findings.map((f) => [f.target, f.status, f.detail])).toEqual([
      ['leader', 'pass', 'pg1'],
      ['pg2', 'pass', 'streaming from pg1, replay lag 100 B'],
      ['pg3', 'pass', 'streaming from pg1, replay lag 0 B'],
    ])
  })
  it('fails a lost leader with the failover runbook as hint, and replicas not streaming or lagging', () => {
    const noLeader = judgePatroni('lab', cluster([member('pg2', {streaming: false})], {leader: undefined, leaderHealthy: false}), 1000)
    expect(noLeader[0]).toMatchObject({target: 'leader', status: 'fail', detail: 'no leader'})
    expect(noLeader[0]!.hint).toContain('ctl runbook patroni-failover lab')
    const lagging = judgePatroni(
      'lab',
      cluster([member('pg1', {role: 'leader'}), member('pg2', {streaming: false, state: 'running'}), member('pg3', {replayLagBytes: 5000})]),
      1000,
    )
    expect(lagging.map((f) => f.status)).toEqual(['pass', 'fail', 'fail'])
    expect(lagging[1]!.detail).toBe('replica, running, NOT streaming from pg1')
    expect(lagging[2]!.detail).toBe('streaming, replay lag 4.9 KiB over the limit 1000 B')
  })
})

describe('etcd', () => {
  const url = 'http://10.0.0.1:2379'
  // etcd 3.4's `endpoint status --cluster -w json`: 64-bit ids as JSON numbers (beyond a double's precision).
  const entry = (endpoint: string, memberId: string, leader: string, dbSize = 20480) =>
    `{"Endpoint":"${endpoint}","Status":{"header":{"cluster_id":17237436991929493444,"member_id":${memberId},"revision":41,"raft_term":2},"version":"3.4.23","dbSize":${dbSize},"leader":${leader},"raftIndex":60,"raftTerm":2,"raftAppliedIndex":60,"dbSizeInUse":20480}}`
  const output = (entries: string[], alarms = '') =>
    `${url} is healthy: successfully committed proposal: took = 2.1ms\n== status\n[${entries.join(',')}]\n== alarms\n${alarms}`
  const all = [
    entry(url, '10501334649042878790', '10501334649042878790'),
    entry('http://10.0.0.2:2379', '10501334649042878791', '10501334649042878790'),
    entry('http://10.0.0.3:2379', '9372538179322589801', '10501334649042878790'),
  ]
  const quota = 2 * 1024 ** 3

  it('asks the member its health, then every member status, then the alarms, over the v3 API', () => {
    const script = etcdProbeCommand(url).script
    expect(script).toContain('env ETCDCTL_API=3 etcdctl --endpoints=http://10.0.0.1:2379 --dial-timeout=3s --command-timeout=5s endpoint health 2>&1 || exit 1')
    expect(script).toContain('endpoint status --cluster -w json')
    expect(script).toContain('alarm list')
  })

  it('passes a healthy member, naming the leader exactly (ids beyond a double) and the database size against the quota', () => {
    expect(judgeEtcdMember(0, output(all), url, 3, quota)).toEqual({
      status: 'pass',
      detail: 'healthy, etcd 3.4.23, raft term 2, leader, 3 of 3 members answer, db 0.0 MiB of 2048.0 MiB',
    })
    // The same id but one: not the leader (doubles would round both to the same number).
    const follower = [entry(url, '10501334649042878791', '10501334649042878790'), ...all.slice(1)]
    expect(judgeEtcdMember(0, output(follower), url, 3, quota).detail).toBe(
      'healthy, etcd 3.4.23, raft term 2, 3 of 3 members answer, db 0.0 MiB of 2048.0 MiB',
    )
  })

  it('fails without a leader, with members naming different leaders, on an alarm, and near the quota; warns above 80 %', () => {
    expect(judgeEtcdMember(0, output([entry(url, '7', '0')]), url, 3, quota).status).toBe('fail')
    const split = judgeEtcdMember(0, output([entry(url, '7', '7'), entry('http://10.0.0.2:2379', '8', '8')]), url, 3, quota)
    expect(split).toMatchObject({status: 'fail', detail: expect.stringContaining('members name different leaders')})
    expect(judgeEtcdMember(0, output(all, 'memberID:10501334649042878790 alarm:NOSPACE\n'), url, 3, quota)).toMatchObject({
      status: 'fail',
      detail: 'alarm: memberID:10501334649042878790 alarm:NOSPACE',
    })
    const big = (bytes: number) => [entry(url, '7', '7', bytes)]
    expect(judgeEtcdMember(0, output(big(1000)), url, 1, 1200).status).toBe('warn')
    expect(judgeEtcdMember(0, output(big(1150)), url, 1, 1200).status).toBe('fail')
    expect(judgeEtcdMember(0, output(big(900)), url, 1, 1200).status).toBe('pass')
  })

  it('a member another cannot reach is left out of the status; an unhealthy member fails with the replace runbook as hint', () => {
    expect(judgeEtcdMember(0, output(all.slice(0, 2)), url, 3, quota).detail).toContain('2 of 3 members answer')
    const down = judgeEtcdMember(1, 'http://10.0.0.1:2379 is unhealthy: failed to commit proposal: context deadline exceeded', url, 3, quota)
    expect(down).toMatchObject({status: 'fail', hint: expect.stringContaining('etcd-member-replace')})
  })
})

const vaultNode = (node: string, over: Partial<VaultNodeStatus> = {}): VaultNodeStatus => ({
  node,
  apiUrl: `http://${node}:8200/`,
  reachable: true,
  initialized: true,
  sealed: false,
  haMode: 'standby',
  ...over,
})

describe('judgeVault', () => {
  const verdict = (problems: string[], peersChecked = true, active: string | undefined = 'v1') => ({ok: problems.length === 0, active, peersChecked, problems})
  it('passes unsealed members with one active and all Raft peers', () => {
    const statuses = [vaultNode('v1', {haMode: 'active'}), vaultNode('v2')]
    const findings = judgeVault('lab', {statuses, servers: [], verdict: verdict([])})
    expect(findings.map((f) => [f.target, f.status])).toEqual([
      ['v1', 'pass'],
      ['v2', 'pass'],
      ['raft', 'pass'],
    ])
  })
  it('fails a sealed member with the unseal command, and warns when peers could not be read', () => {
    const statuses = [vaultNode('v1', {haMode: 'active'}), vaultNode('v2', {sealed: true, haMode: 'sealed', progress: 1, threshold: 3})]
    const findings = judgeVault('lab', {statuses, verdict: verdict(['v2 is sealed'], false), raftError: 'no token'})
    expect(findings[1]).toEqual({
      target: 'v2',
      status: 'fail',
      detail: 'sealed (unseal progress 1/3)',
      hint: "ctl vault unseal lab --node v2 with the key holders' shares.",
    })
    expect(findings[2]).toMatchObject({target: 'raft', status: 'warn'})
  })
  it('fails a cluster without an active node', () => {
    const findings = judgeVault('lab', {statuses: [vaultNode('v1')], servers: [], verdict: verdict(['no node is active'], true, undefined)})
    expect(findings.at(-1)).toMatchObject({target: 'raft', status: 'fail', detail: 'no node is active'})
  })
})

describe('judgeVaultTransport', () => {
  const inventory = (address: string, member: string) =>
    parseInventory(`name: t\nnodes:\n  - {name: v1, address: ${address}}\nvault:\n  members: [{node: v1, ${member}}]\n`, 't.yml').inventory!
  it('warns when shares would cross the network in clear', () => {
    expect(judgeVaultTransport(inventory('10.1.2.3', 'scheme: http'))).toEqual([
      {
        target: 'transport',
        status: 'warn',
        detail: 'plain http to v1 (10.1.2.3): unseal shares and the root token would cross the network in clear',
        hint: expect.stringContaining('scheme: https'),
      },
    ])
  })
  it.each([
    ['10.1.2.3', 'scheme: https'],
    ['127.0.0.1', 'scheme: http'],
    ['198.18.0.11', 'scheme: http'],
    ['10.1.2.3', 'scheme: http, insecureHttpOk: true'],
  ])('no row for %s %s', (address, member) => {
    expect(judgeVaultTransport(inventory(address, member))).toEqual([])
  })
})

describe('patroni check: WAL archiving (with pgBackRest)', () => {
  const stats = (over: Partial<ArchiverStats>): ArchiverStats => ({
    mode: 'on',
    lastArchivedWal: '000000020000000000000010',
    archivedAgoSeconds: 4,
    lastFailedWal: null,
    failedAgoSeconds: null,
    ...over,
  })

  it('passes when the newest archiving attempt succeeded', () => {
    expect(judgeArchiving('prod', 'pg1', stats({}))).toEqual({
      target: 'archiving',
      status: 'pass',
      detail: 'pg1 archives: last 000000020000000000000010 4 s ago',
    })
    expect(judgeArchiving('prod', 'pg1', stats({lastFailedWal: '00000002000000000000000F', failedAgoSeconds: 600})).status).toBe('pass')
    expect(judgeArchiving('prod', 'pg1', stats({lastArchivedWal: null, archivedAgoSeconds: null})).detail).toBe(
      'pg1 archives (nothing to archive since it started)',
    )
  })

  it('fails when archiving is off or its newest attempt failed, naming the segment and what to run', () => {
    expect(judgeArchiving('prod', 'pg1', stats({mode: 'off'}))).toMatchObject({status: 'fail', hint: 'ctl runbook pgbackrest-setup prod'})
    const failing = judgeArchiving('prod', 'pg1', stats({lastFailedWal: '000000020000000000000011', failedAgoSeconds: 2}))
    expect(failing).toMatchObject({
      status: 'fail',
      detail: 'archiving fails on pg1: 000000020000000000000011 failed 2 s ago, last archived 000000020000000000000010 4 s ago',
    })
    expect(judgeArchiving('prod', 'pg1', stats({lastArchivedWal: null, archivedAgoSeconds: null, lastFailedWal: 'x', failedAgoSeconds: 9})).status).toBe('fail')
  })
})
