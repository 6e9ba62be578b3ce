import {describe, expect, it} from 'vitest'
import {parseInitialCluster, parseMemberList} from '../../../src/etcd/members.js'
import {chooseMemberToReplace, type EtcdMemberHealth} from '../../../src/etcd/replace.js'
import {parseEtcdStatuses} from '../../../src/etcd/status.js'

// `etcdctl member list` (etcd 3.4, simple format) with one member added back and not started yet.
const LIST = [
  '3a57933972cb5131, started, etcd-h1, http://198.18.0.11:2380, http://198.18.0.11:2379, false',
  'b9d4e2b2f6c7c0e1, started, etcd-h2, http://198.18.0.12:2380, http://198.18.0.12:2379, false',
  'f1a2b3c4d5e6f708, unstarted, , http://198.18.0.13:2380, , false',
].join('\n')

const ADD = [
  'Member f1a2b3c4d5e6f708 added to cluster 8c4281cc65c7b112',
  '',
  'ETCD_NAME="etcd-h3"',
  'ETCD_INITIAL_CLUSTER="etcd-h1=http://198.18.0.11:2380,etcd-h2=http://198.18.0.12:2380,etcd-h3=http://198.18.0.13:2380"',
  'ETCD_INITIAL_ADVERTISE_PEER_URLS="http://198.18.0.13:2380"',
  'ETCD_INITIAL_CLUSTER_STATE="existing"',
].join('\n')

describe('etcd membership output', () => {
  it('reads member list: hex ids, started or not, an unstarted member without name or client URL', () => {
    expect(parseMemberList(LIST)).toEqual([
      {id: '3a57933972cb5131', started: true, name: 'etcd-h1', peerUrls: ['http://198.18.0.11:2380'], clientUrls: ['http://198.18.0.11:2379']},
      {id: 'b9d4e2b2f6c7c0e1', started: true, name: 'etcd-h2', peerUrls: ['http://198.18.0.12:2380'], clientUrls: ['http://198.18.0.12:2379']},
      {id: 'f1a2b3c4d5e6f708', started: false, name: '', peerUrls: ['http://198.18.0.13:2380'], clientUrls: []},
    ])
  })

  it('reads the initial cluster member add prints for the new member', () => {
    expect(parseInitialCluster(ADD)).toBe('etcd-h1=http://198.18.0.11:2380,etcd-h2=http://198.18.0.12:2380,etcd-h3=http://198.18.0.13:2380')
    expect(parseInitialCluster('Error: etcdserver: unhealthy cluster')).toBeUndefined()
  })

  it('keeps 64-bit member ids exact', () => {
    const [s] = parseEtcdStatuses(
      '[{"Endpoint":"http://a:2379","Status":{"header":{"member_id":10501334649042878791},"leader":10501334649042878790,"raftTerm":3,"version":"3.4.23","dbSize":1}}]',
    )
    expect(s).toMatchObject({memberId: '10501334649042878791', leader: '10501334649042878790'})
  })
})

const member = (n: number, healthy: boolean): EtcdMemberHealth => ({
  name: `etcd-h${n}`,
  node: `h${n}`,
  peerUrl: `http://198.18.0.1${n}:2380`,
  healthy,
  detail: healthy ? 'is healthy' : 'connection refused',
})
const started = parseMemberList(
  LIST.replace(
    'f1a2b3c4d5e6f708, unstarted, , http://198.18.0.13:2380, , false',
    'f1a2b3c4d5e6f708, started, etcd-h3, http://198.18.0.13:2380, http://198.18.0.13:2379, false',
  ),
)

describe('etcd-member-replace: the member to replace', () => {
  it('the one unhealthy member: removed (listed as started), then added back', () => {
    expect(chooseMemberToReplace([member(1, true), member(2, true), member(3, false)], started, 'lab')).toEqual({
      ok: true,
      target: 'etcd-h3',
      remove: 'f1a2b3c4d5e6f708',
      add: true,
      healthy: ['etcd-h1', 'etcd-h2'],
    })
  })

  it('a run cut short after adding it: neither removed nor added again; one already removed: added only', () => {
    const health = [member(1, true), member(2, true), member(3, false)]
    expect(chooseMemberToReplace(health, parseMemberList(LIST), 'lab')).toMatchObject({ok: true, target: 'etcd-h3', add: false})
    expect(chooseMemberToReplace(health, parseMemberList(LIST).slice(0, 2), 'lab')).toEqual({
      ok: true,
      target: 'etcd-h3',
      add: true,
      healthy: ['etcd-h1', 'etcd-h2'],
    })
  })

  it('refuses without a healthy majority, pointing at etcd-restore', () => {
    const choice = chooseMemberToReplace([member(1, true), member(2, false), member(3, false)], started, 'prod')
    expect(choice).toMatchObject({ok: false, code: 'etcd.no-quorum', hint: expect.stringContaining('ctl runbook etcd-restore prod')})
  })

  it('refuses a healthy member, a member not in the inventory, no unhealthy member, and two without --member', () => {
    const all = [member(1, true), member(2, true), member(3, true)]
    expect(chooseMemberToReplace(all, started, 'lab')).toMatchObject({ok: false, code: 'etcd.healthy'})
    expect(chooseMemberToReplace(all, started, 'lab', 'etcd-h2')).toMatchObject({ok: false, code: 'etcd.member-healthy'})
    expect(chooseMemberToReplace(all, started, 'lab', 'etcd-h9')).toMatchObject({ok: false, code: 'etcd.bad-member'})
    const five = [member(1, true), member(2, true), member(3, true), member(4, false), member(5, false)]
    expect(chooseMemberToReplace(five, started, 'lab')).toMatchObject({ok: false, code: 'etcd.choose-member'})
  })

  it('refuses when etcd lists a member the inventory does not describe', () => {
    const stray = [...started, {id: 'aa', started: true, name: 'etcd-old', peerUrls: ['http://10.9.9.9:2380'], clientUrls: []}]
    expect(chooseMemberToReplace([member(1, true), member(2, true), member(3, false)], stray, 'lab')).toMatchObject({ok: false, code: 'etcd.unknown-members'})
  })
})
