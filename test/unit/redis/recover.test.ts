import {describe, expect, it} from 'vitest'
import {renderCommand} from '../../../src/lib/shell.js'
import {redisCliCommand} from '../../../src/redis/access.js'
import type {RedisMemberFacts} from '../../../src/redis/facts.js'
import {parseRedisFacts} from '../../../src/redis/facts.js'
import {parseRedisPersistence, redisPersistenceCommand, type RedisPersistence} from '../../../src/redis/persistence.js'
import {chooseRecoverySource} from '../../../src/redis/recover.js'
import {parseSentinelMaster, parseSentinelMasterView, repointArguments, sentinelViewProblems} from '../../../src/redis/sentinel.js'

// What `find -printf '%T@ %s %P\n'` printed on this machine for a master and a replica of Redis 7.0 (AOF on).
const MASTER_FILES = [
  'now 1796621459.053013161',
  '1796621141.4907833010 88 appendonlydir/appendonly.aof.manifest',
  '1796621141.4866811140 89 appendonlydir/appendonly.aof.1.base.rdb',
  '1796621158.3187828800 10367 appendonlydir/appendonly.aof.1.incr.aof',
].join('\n')
const REPLICA_FILES = [
  'now 1796621459.059977675',
  '1796621146.6326042680 88 appendonlydir/appendonly.aof.manifest',
  '1796621146.5359928850 2079 appendonlydir/appendonly.aof.2.base.rdb',
  '1796621157.0347829120 3653 appendonlydir/appendonly.aof.2.incr.aof',
  // Saved later than its last write (save 60 1): Redis loads the AOF, so this stamp must not count.
  '1796621400.5270409410 2163 dump.rdb',
].join('\n')

describe('Redis persistence files', () => {
  it('dates the last write by the incremental AOF, by the node’s own clock, and ignores a later RDB beside the AOF', () => {
    expect(parseRedisPersistence('r1', MASTER_FILES)).toEqual({
      node: 'r1',
      found: true,
      kind: 'aof',
      files: ['appendonlydir/appendonly.aof.1.base.rdb', 'appendonlydir/appendonly.aof.1.incr.aof'],
      bytes: 10456,
      lastWriteAgeSeconds: 300.734,
      exact: true,
    })
    const replica = parseRedisPersistence('r2', REPLICA_FILES)
    expect(replica.kind).toBe('aof')
    expect(replica.lastWriteAgeSeconds).toBeCloseTo(302.025, 3)
  })

  it('an empty incremental file (just rewritten or resynced): the base’s time, as an upper bound only', () => {
    const p = parseRedisPersistence(
      'r1',
      ['now 1000', '900 88 appendonlydir/a.aof.manifest', '950 500 appendonlydir/a.aof.3.base.rdb', '990 0 appendonlydir/a.aof.3.incr.aof'].join('\n'),
    )
    expect(p).toMatchObject({lastWriteAgeSeconds: 50, exact: false})
  })

  it('without an AOF, the RDB snapshot', () => {
    expect(parseRedisPersistence('r1', 'now 1000\n940 2163 dump.rdb\n')).toMatchObject({
      kind: 'rdb',
      files: ['dump.rdb'],
      lastWriteAgeSeconds: 60,
      exact: false,
    })
  })

  it('a missing data directory, and one without data files, give no age', () => {
    expect(parseRedisPersistence('r1', 'nodir\n')).toEqual({node: 'r1', found: false, files: [], bytes: 0})
    expect(parseRedisPersistence('r1', 'now 1000\n')).toEqual({node: 'r1', found: true, files: [], bytes: 0})
  })

  it('quotes the data directory', () => {
    expect(renderCommand(redisPersistenceCommand("/data/it's; rm -rf /"))).toContain("d='/data/it'\\''s; rm -rf /'")
  })
})

const named = {address: '10.0.0.1', port: 6379}
const down = (node: string, address: string, sentinelMaster: {address: string; port: number} | undefined = named): RedisMemberFacts => ({
  node,
  address,
  port: 6379,
  replicas: [],
  error: 'Could not connect',
  ...(sentinelMaster ? {sentinelMaster} : {}),
})
const files = (node: string, age: number | undefined, bytes = 1000, exact = true): RedisPersistence =>
  age === undefined
    ? {node, found: true, files: [], bytes: 0}
    : {node, found: true, kind: 'aof', files: ['appendonlydir/x'], bytes, lastWriteAgeSeconds: age, exact}
const allDown = () => [down('r1', '10.0.0.1'), down('r2', '10.0.0.2'), down('r3', '10.0.0.3')]

describe('redis-recover: the member to start as master', () => {
  it('every member down, last writes within the same second: the master the sentinels named', () => {
    const choice = chooseRecoverySource(allDown(), [files('r1', 10.2), files('r2', 9.5, 5000), files('r3', 10.0)])
    expect(choice).toMatchObject({ok: true, source: 'r1', others: ['r2', 'r3']})
  })

  it('a replica that wrote later than the named master (by more than a second) wins', () => {
    expect(chooseRecoverySource(allDown(), [files('r1', 40), files('r2', 14), files('r3', 11.5)])).toMatchObject({ok: true, source: 'r3'})
  })

  it('a replica resynced after the last write (its base made later, no write since) ties with the named master: the master stays', () => {
    // Measured on the lab: a replica restarted and fully resynced 25 s after the last write looked 25 s newer by its base's time.
    expect(chooseRecoverySource(allDown(), [files('r1', 30), files('r2', 5, 1000, false), files('r3', 30.4)])).toMatchObject({ok: true, source: 'r1'})
    // No writes since the last recovery: every age is a base's (the resyncs'): the named master stays, run after run.
    expect(chooseRecoverySource(allDown(), [files('r1', 56, 1000, false), files('r2', 7, 1000, false), files('r3', 30, 1000, false)])).toMatchObject({
      ok: true,
      source: 'r1',
    })
    // A replica that wrote after the named master's last base: the master lost those writes; the replica wins.
    expect(chooseRecoverySource(allDown(), [files('r1', 100, 1000, false), files('r2', 50), files('r3', 100, 1000, false)])).toMatchObject({
      ok: true,
      source: 'r2',
    })
    // Without the named master's files: the replica whose age is a write's, before one whose age is its base's.
    const persistence = [{node: 'r1', found: false, files: [], bytes: 0}, files('r2', 5, 5000, false), files('r3', 30.4)]
    expect(chooseRecoverySource(allDown(), persistence)).toMatchObject({ok: true, source: 'r3'})
    expect(chooseRecoverySource(allDown(), [files('r1', 30), files('r2', 50, 1000, false), files('r3', 30.4)], 'r2')).toMatchObject({
      ok: false,
      code: 'redis.older-source',
    })
  })

  it('the named master lost its data directory: the newest replica, the data ties broken by size then name', () => {
    const persistence = [{node: 'r1', found: false, files: [], bytes: 0}, files('r2', 5, 900), files('r3', 5.4, 900)]
    const choice = chooseRecoverySource(allDown(), persistence)
    expect(choice).toMatchObject({ok: true, source: 'r2', others: ['r1', 'r3']})
    if (choice.ok) expect(choice.candidates.find((c) => c.node === 'r1')?.why).toBe('its data directory does not exist')
  })

  it('a running replica whose link is down counts by the seconds since it went down', () => {
    const facts = allDown()
    facts[2] = {
      ...parseRedisFacts(
        'r3',
        {address: '10.0.0.3', port: 6379},
        '== info\nrole:slave\nmaster_host:10.0.0.1\nmaster_port:6379\nmaster_link_status:down\nmaster_link_down_since_seconds:3\nslave_repl_offset:100\n',
      ),
      sentinelMaster: named,
    }
    expect(chooseRecoverySource(facts, [files('r1', 30), files('r2', 30), files('r3', 600)])).toMatchObject({ok: true, source: 'r3'})
  })

  it('a master that runs and that the sentinels agree on stays the master; --from another is refused', () => {
    const facts = allDown()
    facts[0] = {...facts[0]!, role: 'master', offset: 10}
    delete facts[0].error
    expect(chooseRecoverySource(facts, [files('r1', 0), files('r2', 1), files('r3', 1)])).toMatchObject({ok: true, source: 'r1'})
    expect(chooseRecoverySource(facts, [], 'r2')).toMatchObject({ok: false, code: 'redis.master-up'})
  })

  it('--from an older member is refused, naming the newer; --from one within the same second is taken', () => {
    const persistence = [files('r1', 2), files('r2', 60), files('r3', 2.5)]
    const refused = chooseRecoverySource(allDown(), persistence, 'r2')
    expect(refused).toMatchObject({ok: false, code: 'redis.older-source'})
    if (!refused.ok) expect(refused.reason).toContain('r1: last write 2.0 s ago')
    expect(chooseRecoverySource(allDown(), persistence, 'r3')).toMatchObject({ok: true, source: 'r3', others: ['r1', 'r2']})
    expect(chooseRecoverySource(allDown(), persistence, 'r9')).toMatchObject({ok: false, code: 'redis.bad-source'})
  })

  it('no member with data files: refused, never an empty master', () => {
    const choice = chooseRecoverySource(allDown(), [
      files('r1', undefined),
      {node: 'r2', found: false, files: [], bytes: 0},
      {node: 'r3', found: false, files: [], bytes: 0, error: 'ssh: timed out'},
    ])
    expect(choice).toMatchObject({ok: false, code: 'redis.no-data'})
    if (!choice.ok) expect(choice.reason).toContain('r3: no (ssh: timed out)')
  })
})

describe('pointing a sentinel at another master', () => {
  it('carries the quorum and the timeouts over; the password goes apart', () => {
    const out = [
      'name',
      'ctl-lab',
      'ip',
      '198.18.0.11',
      'port',
      '6379',
      'quorum',
      '2',
      'down-after-milliseconds',
      '2000',
      'failover-timeout',
      '10000',
      'parallel-syncs',
      '1',
      '',
    ].join('\n')
    const settings = parseSentinelMaster(out, 3)
    expect(settings).toEqual({
      quorum: 2,
      carried: [
        ['down-after-milliseconds', '2000'],
        ['failover-timeout', '10000'],
        ['parallel-syncs', '1'],
      ],
    })
    expect(repointArguments('ctl-lab', '198.18.0.12', 6379, settings)).toEqual({
      remove: ['SENTINEL', 'REMOVE', 'ctl-lab'],
      monitor: ['SENTINEL', 'MONITOR', 'ctl-lab', '198.18.0.12', '6379', '2'],
      set: ['SENTINEL', 'SET', 'ctl-lab', 'down-after-milliseconds', '2000', 'failover-timeout', '10000', 'parallel-syncs', '1'],
      authPass: ['SENTINEL', 'SET', 'ctl-lab', 'auth-pass'],
    })
  })

  it('a sentinel that does not know the master any more: a majority quorum', () => {
    expect(parseSentinelMaster('ERR No such master with that name\n', 3)).toEqual({quorum: 2, carried: []})
  })
})

describe('redis-cli with the password as an argument (SENTINEL SET auth-pass)', () => {
  const loaded = {
    inventory: {
      nodes: [{name: 'r1', address: '10.0.0.1'}],
      databases: {redis: {masterName: 'm', password: 'env:REDIS_PW', maxLagBytes: 0, members: [{node: 'r1', port: 6379, sentinelPort: 26379, dataDir: '/d'}]}},
    },
  } as unknown as Parameters<typeof redisCliCommand>[0]

  it('feeds it from stdin into -x: never in argv', () => {
    const text = renderCommand(redisCliCommand(loaded, 'r1', 'sentinel', ['SENTINEL', 'SET', 'm', 'auth-pass'], {passwordAsLastArgument: true}))
    expect(text).toContain('IFS= read -r REDISCLI_AUTH && export REDISCLI_AUTH')
    expect(text).toContain(`printf '%s' "$REDISCLI_AUTH" | redis-cli --no-auth-warning -h 10.0.0.1 -p 26379 -x SENTINEL SET m auth-pass`)
  })
})

describe('a sentinel that watches the recovered master', () => {
  const out = (flags: string, slaves: number, sentinels: number) =>
    [
      'name',
      'ctl-lab',
      'ip',
      '198.18.0.12',
      'port',
      '6379',
      'flags',
      flags,
      'num-slaves',
      String(slaves),
      'num-other-sentinels',
      String(sentinels),
      'quorum',
      '2',
      '',
    ].join('\n')

  it('is done when it flags the master healthy and knows every replica and the other sentinels', () => {
    expect(sentinelViewProblems('h1', parseSentinelMasterView(out('master', 2, 2)), '198.18.0.12', 6379, 3)).toEqual([])
  })

  it('is not while it has not found the replicas and sentinels again (after REMOVE and MONITOR), or flags the master down', () => {
    expect(sentinelViewProblems('h1', parseSentinelMasterView(out('master', 0, 1)), '198.18.0.12', 6379, 3)).toEqual([
      "h1's sentinel knows 0 of 2 replicas",
      "h1's sentinel knows 1 of 2 other sentinels",
    ])
    expect(sentinelViewProblems('h1', parseSentinelMasterView(out('s_down,master', 2, 2)), '198.18.0.12', 6379, 3)).toEqual([
      "h1's sentinel flags the master s_down,master",
    ])
    expect(sentinelViewProblems('h1', parseSentinelMasterView(out('master', 2, 2)), '198.18.0.11', 6379, 3)[0]).toBe("h1's sentinel watches 198.18.0.12:6379")
  })
})
