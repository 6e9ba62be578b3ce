import {describe, expect, it} from 'vitest'
import {redisConf, redisPaths, sentinelConf} from '../../src/components/redis-files.js'
import {labHost} from '../../src/types.js'

const [h1, h2] = [labHost(1), labHost(2)]

describe('lab Redis files', () => {
  it('the master has no replicaof; a replica follows the master; both protected by the password, AOF on', () => {
    const master = redisConf(h1, 'p"w', h1)
    expect(master).not.toMatch(/^replicaof/m)
    expect(master).toContain('bind 198.18.0.11\nport 6379\n')
    expect(master).toContain('requirepass "p\\"w"\nmasterauth "p\\"w"\n')
    expect(master).toContain('appendonly yes\n')
    expect(master).toContain(`dir "${redisPaths(h1).data}"`)
    expect(redisConf(h2, 'pw', h1)).toMatch(/^replicaof 198\.18\.0\.11 6379$/m)
  })

  it('each sentinel monitors the first master with quorum 2 and a 2 s down-after, announcing its own address', () => {
    const conf = sentinelConf(h2, 'pw', h1)
    expect(conf).toContain('sentinel monitor ctl-lab 198.18.0.11 6379 2\n')
    expect(conf).toContain('sentinel down-after-milliseconds ctl-lab 2000\n')
    expect(conf).toContain('sentinel announce-ip 198.18.0.12\n')
    expect(conf).toContain('sentinel auth-pass ctl-lab "pw"\nsentinel down-after')
    expect(conf).toContain('requirepass "pw"\nsentinel sentinel-pass "pw"\n')
  })
})
