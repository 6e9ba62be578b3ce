import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {chooseFailoverTarget, failoverProblems} from '../../../src/redis/decide.js'
import {parseRedisFacts, redisFactsCommand, type RedisMemberFacts} from '../../../src/redis/facts.js'
import {judgeRedis, sentinelView} from '../../../src/redis/judge.js'
import {renderCommand} from '../../../src/lib/shell.js'

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8')
const sentinel = {address: '10.0.0.1', port: 6379}
const member = (node: string, address: string, extra: Partial<RedisMemberFacts>): RedisMemberFacts => ({
  node,
  address,
  port: 6379,
  replicas: [],
  priority: 100,
  sentinelMaster: sentinel,
  quorum: {ok: true, detail: 'OK 3 usable Sentinels.'},
  ...extra,
})
const healthy = (): RedisMemberFacts[] => [
  member('r1', '10.0.0.1', {
    role: 'master',
    offset: 5000,
    replicas: [
      {address: '10.0.0.2', port: 6379, state: 'online', offset: 5000},
      {address: '10.0.0.3', port: 6379, state: 'online', offset: 4900},
    ],
  }),
  member('r2', '10.0.0.2', {role: 'slave', masterHost: '10.0.0.1', masterPort: 6379, linkUp: true, offset: 5000}),
  member('r3', '10.0.0.3', {role: 'slave', masterHost: '10.0.0.1', masterPort: 6379, linkUp: true, offset: 4900}),
]

describe('Redis facts', () => {
  it('reads INFO replication, replica-priority, the master the sentinel names and its quorum (redis 7.0 output)', () => {
    const facts = parseRedisFacts('r1', {address: '127.0.0.1', port: 16379}, fixture('master-7.0.txt'))
    expect(facts).toMatchObject({
      role: 'master',
      offset: 177,
      priority: 100,
      replicas: [{address: '127.0.0.1', port: 16380, state: 'wait_bgsave', offset: 0}],
      sentinelMaster: {address: '127.0.0.1', port: 16379},
      quorum: {ok: true},
    })
    // CRLF lines, a link down.
    const replica = parseRedisFacts('r2', {address: '127.0.0.1', port: 16380}, fixture('replica-7.0.txt'))
    expect(replica).toMatchObject({role: 'slave', masterHost: '127.0.0.1', masterPort: 16379, linkUp: false, offset: 1, quorum: {ok: true}})
  })

  it('a member that answers with an error has no role and keeps the error', () => {
    const facts = parseRedisFacts('r1', {address: 'a', port: 1}, '== info\nNOAUTH Authentication required.\n== sentinel\n== quorum\n')
    expect(facts.role).toBeUndefined()
    expect(facts.error).toBe('NOAUTH Authentication required.')
    expect(facts.sentinelMaster).toBeUndefined()
  })

  it('gives redis-cli the password in its environment from stdin, never in argv', () => {
    const text = renderCommand(redisFactsCommand({masterName: "m'x"}, {port: 6379, sentinelPort: 26379}, {address: '10.0.0.1'}, true))
    expect(text).toContain('IFS= read -r REDISCLI_AUTH && export REDISCLI_AUTH')
    expect(text).not.toMatch(/ -a /)
    expect(text).toContain("SENTINEL get-master-addr-by-name 'm'\\''x'")
  })
})

describe('Redis check', () => {
  it('passes a healthy cluster: one master, replicas linked and in sync, every sentinel agreeing', () => {
    const findings = judgeRedis('prod', healthy(), 1024)
    expect(findings.map((f) => [f.target, f.status])).toEqual([
      ['r1', 'pass'],
      ['r2', 'pass'],
      ['r3', 'pass'],
    ])
    expect(findings[0]!.detail).toBe('master, 2 of 2 replicas online, offset 5000; 3 of 3 sentinels agree')
    expect(findings[2]!.detail).toBe('replica of 10.0.0.1:6379, link up, 100 bytes behind')
  })

  it('fails a replica that lags, a link down, a disagreeing sentinel, a second master and a dead member', () => {
    const lagging = healthy()
    lagging[2]!.offset = 1000
    expect(judgeRedis('prod', lagging, 1024)[2]).toMatchObject({status: 'fail', detail: expect.stringContaining('4000 bytes behind (at most 1024)')})
    const down = healthy()
    down[1]!.linkUp = false
    expect(judgeRedis('prod', down, 1024)[1]).toMatchObject({status: 'fail', detail: expect.stringContaining('link down')})
    const disagree = healthy()
    disagree[2]!.sentinelMaster = {address: '10.0.0.3', port: 6379}
    expect(judgeRedis('prod', disagree, 1024)[2]).toMatchObject({status: 'fail', detail: 'its sentinel names 10.0.0.3:6379, the majority 10.0.0.1:6379'})
    const split = healthy()
    split[2] = {...split[2]!, role: 'master'}
    expect(judgeRedis('prod', split, 1024)[2]).toMatchObject({status: 'fail', detail: expect.stringContaining('split brain')})
    const dead = healthy()
    dead[0] = {...dead[0]!, role: undefined, error: 'Could not connect'}
    dead[0]!.replicas = []
    const findings = judgeRedis('prod', dead, 1024)
    expect(findings[0]).toMatchObject({status: 'fail', detail: expect.stringContaining('does not answer')})
  })

  it('fails every member when no majority of sentinels agrees', () => {
    const facts = healthy()
    facts[1]!.sentinelMaster = {address: '10.0.0.2', port: 6379}
    facts[2]!.sentinelMaster = {address: '10.0.0.3', port: 6379}
    expect(sentinelView(facts).master).toBeUndefined()
    expect(judgeRedis('prod', facts, 1024).every((f) => f.status === 'fail' && f.detail.startsWith('no master a majority'))).toBe(true)
  })
})

describe('Redis failover target', () => {
  it('chooses the linked replica with the least lag, or the one asked for', () => {
    expect(chooseFailoverTarget(healthy(), 1024)).toMatchObject({ok: true, target: {node: 'r2'}, master: {node: 'r1'}})
    expect(chooseFailoverTarget(healthy(), 1024, 'r3')).toMatchObject({ok: true, target: {node: 'r3'}, others: [{node: 'r2'}]})
  })

  it('refuses a lagging or unlinked replica, the master itself, an unknown node and a master that is down', () => {
    expect(chooseFailoverTarget(healthy(), 50, 'r3')).toMatchObject({
      ok: false,
      code: 'redis.unfit-target',
      reason: expect.stringContaining('100 bytes behind'),
    })
    const unlinked = healthy()
    unlinked[1]!.linkUp = false
    expect(chooseFailoverTarget(unlinked, 1024, 'r2')).toMatchObject({ok: false, code: 'redis.unfit-target'})
    // Without --to, the unlinked one is passed over.
    expect(chooseFailoverTarget(unlinked, 1024)).toMatchObject({ok: true, target: {node: 'r3'}})
    expect(chooseFailoverTarget(healthy(), 1024, 'r1')).toMatchObject({ok: false, code: 'redis.bad-target', reason: 'r1 is the master already'})
    expect(chooseFailoverTarget(healthy(), 1024, 'nope')).toMatchObject({ok: false, code: 'redis.bad-target'})
    const masterDown = healthy()
    masterDown[0] = {...masterDown[0]!, role: undefined}
    expect(chooseFailoverTarget(masterDown, 1024)).toMatchObject({ok: false, code: 'redis.master-down'})
    const noFit = healthy()
    noFit[1]!.linkUp = false
    noFit[2]!.priority = 0
    expect(chooseFailoverTarget(noFit, 1024)).toMatchObject({ok: false, code: 'redis.no-fit-replica'})
  })
})

describe('Redis failover: done when', () => {
  it('the sentinels name the target, it is a master and every member that answered before follows it', () => {
    const facts = healthy()
    // Before the switch: r1 is still the master.
    expect(failoverProblems(facts, 'r2', ['r1', 'r2', 'r3'], 1024)).toEqual(
      expect.arrayContaining(['r2 is slave, not a master', "the sentinels' majority names 10.0.0.1:6379"]),
    )
    const after: RedisMemberFacts[] = [
      member('r1', '10.0.0.1', {
        role: 'slave',
        masterHost: '10.0.0.2',
        masterPort: 6379,
        linkUp: true,
        offset: 6000,
        sentinelMaster: {address: '10.0.0.2', port: 6379},
      }),
      member('r2', '10.0.0.2', {role: 'master', offset: 6000, sentinelMaster: {address: '10.0.0.2', port: 6379}}),
      member('r3', '10.0.0.3', {
        role: 'slave',
        masterHost: '10.0.0.1',
        masterPort: 6379,
        linkUp: true,
        offset: 5000,
        sentinelMaster: {address: '10.0.0.2', port: 6379},
      }),
    ]
    expect(failoverProblems(after, 'r2', ['r1', 'r2', 'r3'], 1024)).toEqual([expect.stringMatching(/^r3: it replicates from 10\.0\.0\.1:6379/)])
    // r3 was down before the failover: not waited for.
    expect(failoverProblems(after, 'r2', ['r1', 'r2'], 1024)).toEqual([])
    after[2] = {...after[2]!, masterHost: '10.0.0.2'}
    expect(failoverProblems(after, 'r2', ['r1', 'r2', 'r3'], 512)).toEqual(['r3: 1000 bytes behind'])
    expect(failoverProblems(after, 'r2', ['r1', 'r2', 'r3'], 4096)).toEqual([])
  })
})
