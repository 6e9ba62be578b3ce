import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {LOCK_HELD_EXIT, acquireLockScript, breakLockScript, describeHolder, isStale, lockPath, parseLockInfo, readLockScript, releaseLockScript} from '../../../src/deploy/lock.js'

describe('deploy lock commands', () => {
  it('builds the exact scripts', () => {
    expect(lockPath('/var/lib/ctl/locks/', 'prod')).toBe('/var/lib/ctl/locks/deploy-prod.lock')
    expect(acquireLockScript('/var/lib/ctl/locks', 'prod').script).toBe(
      "mkdir -p /var/lib/ctl/locks && if mkdir /var/lib/ctl/locks/deploy-prod.lock 2>/dev/null; then cat > /var/lib/ctl/locks/deploy-prod.lock/info.json; else cat /var/lib/ctl/locks/deploy-prod.lock/info.json 2>/dev/null || printf '{}'; exit 3; fi",
    )
    expect(releaseLockScript('/l', 'prod', 'abc').script).toBe(`if grep -qF '"id":"abc"' /l/deploy-prod.lock/info.json 2>/dev/null; then rm -rf /l/deploy-prod.lock; fi`)
    expect(readLockScript('/l', 'prod').script).toBe("if [ -d /l/deploy-prod.lock ]; then cat /l/deploy-prod.lock/info.json 2>/dev/null || printf '{}'; fi")
    expect(breakLockScript('/my locks', 'prod').script).toBe("rm -rf '/my locks/deploy-prod.lock'")
  })

  it('is atomic and keeps the first holder when run by a real shell', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ctl-lock-')), 'locks')
    const sh = (script: string, input = '') => spawnSync('sh', ['-c', script], {input, encoding: 'utf8'})
    const first = sh(acquireLockScript(dir, 'lab').script, '{"id":"one","holder":"alice"}')
    expect(first.status).toBe(0)
    const second = sh(acquireLockScript(dir, 'lab').script, '{"id":"two","holder":"bob"}')
    expect(second.status).toBe(LOCK_HELD_EXIT)
    expect(parseLockInfo(second.stdout).holder).toBe('alice')
    // Release with someone else's token leaves the lock; with ours removes it.
    sh(releaseLockScript(dir, 'lab', 'two').script)
    expect(existsSync(lockPath(dir, 'lab'))).toBe(true)
    expect(readFileSync(join(lockPath(dir, 'lab'), 'info.json'), 'utf8')).toContain('alice')
    sh(releaseLockScript(dir, 'lab', 'one').script)
    expect(existsSync(lockPath(dir, 'lab'))).toBe(false)
    expect(execFileSync('sh', ['-c', readLockScript(dir, 'lab').script], {encoding: 'utf8'})).toBe('')
  })

  it('judges staleness and describes the holder', () => {
    const now = new Date('2026-01-01T12:00:00Z')
    const info = {holder: 'alice', from: 'laptop', since: '2026-01-01T11:30:00Z', version: 'app=v2', message: 'hotfix'}
    expect(isStale(info, now, 60)).toBe(false)
    expect(isStale(info, now, 20)).toBe(true)
    expect(isStale({}, now, 60)).toBe(true)
    expect(describeHolder(info, now)).toBe('alice@laptop since 2026-01-01T11:30:00Z (30 min ago), deploying app=v2: hotfix')
    expect(parseLockInfo('not json')).toEqual({})
  })
})
