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
  it('asks the member its health then its status, over the v3 API', () => {
    expect(etcdProbeCommand('http://10.0.0.1:2379').script).toBe(
      'command -v etcdctl >/dev/null || exit 127; env ETCDCTL_API=3 etcdctl --endpoints=http://10.0.0.1:2379 --dial-timeout=3s --command-timeout=5s endpoint health 2>&1 && env ETCDCTL_API=3 etcdctl --endpoints=http://10.0.0.1:2379 --dial-timeout=3s --command-timeout=5s endpoint status -w json',
    )
  })
  it('reads health and leader', () => {
    const ok =
      'http://10.0.0.1:2379 is healthy: successfully committed proposal: took = 2ms\n[{"Endpoint":"http://10.0.0.1:2379","Status":{"header":{"member_id":7},"version":"3.4.23","leader":7,"raftTerm":2}}]'
    expect(judgeEtcdMember(0, ok)).toEqual({status: 'pass', detail: 'healthy, etcd 3.4.23, raft term 2, leader'})
    expect(judgeEtcdMember(0, ok.replace('"leader":7', '"leader":0')).status).toBe('fail')
    expect(judgeEtcdMember(1, 'http://10.0.0.1:2379 is unhealthy: failed to commit proposal: context deadline exceeded').status).toBe('fail')
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
