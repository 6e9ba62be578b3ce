import {execa} from 'execa'
import {writeFileSync} from 'node:fs'
import {afterAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'

// The hosts strategy (seed 001, no Swarm): the lab's `legacy` server runs in every host namespace;
// `ctl reload` runs its reloadCommand host by host and gates each host on its /health.
const VERSION_FILE = '/var/lib/ctl-lab/app/legacy-version'

async function legacyVersions(): Promise<(string | undefined)[]> {
  return Promise.all(
    [1, 2, 3].map(async (i) => {
      const r = await execa('curl', ['-s', '-m', '2', `http://198.18.0.1${i}:5080/health`], {reject: false})
      return r.exitCode === 0 ? (JSON.parse(String(r.stdout)) as {version: string}).version : undefined
    }),
  )
}

describe('ctl reload of a hosts-strategy service', () => {
  afterAll(async () => {
    writeFileSync(VERSION_FILE, 'v1\n')
    await runCtl(['reload', 'lab', 'legacy', '--json'])
  })

  it('reloads host by host, each healthy before the next', async () => {
    writeFileSync(VERSION_FILE, 'v3\n')
    const dry = await runCtl(['reload', 'lab', 'legacy', '--dry-run'])
    expect(dry.stdout).toContain('Would run /var/lib/ctl-lab/app/legacy-reload on h1, then h2, then h3')
    expect(await legacyVersions()).not.toEqual(['v3', 'v3', 'v3'])
    const run = await runCtl(['reload', 'lab', 'legacy', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const result = json(run)
    expect(result.hosts.map((h: any) => `${h.host}:${h.outcome}`)).toEqual(['h1:reloaded', 'h2:reloaded', 'h3:reloaded'])
    expect(result.hosts[0].url).toBe('http://198.18.0.11:5080/health')
    expect(await legacyVersions()).toEqual(['v3', 'v3', 'v3'])
  })

  it('stops at the first host whose /health does not pass, leaving the others untouched', async () => {
    // h2's reload "succeeds" but its server answers 503 (APP_HEALTH is inherited from nowhere, so
    // break it the way an operator would see it: the failing flag is set right after the restart).
    writeFileSync(VERSION_FILE, 'v2\n')
    const breaker = setInterval(() => {
      try {
        writeFileSync('/run/ctl-lab/h2/legacy/fail-health', '')
      } catch {
        // The service directory may be gone for a moment while the task restarts.
      }
    }, 50)
    try {
      const run = await runCtl(['reload', 'lab', 'legacy', '--json'])
      expect(run.exitCode).toBe(1)
      const result = json(run)
      expect(result.hosts.map((h: any) => `${h.host}:${h.outcome}`)).toEqual(['h1:reloaded', 'h2:failed', 'h3:not-started'])
      expect(result.hosts[1].lastAnswers.join('\n')).toMatch(/HTTP 503 \{"status":"failing","version":"v2"/)
    } finally {
      clearInterval(breaker)
    }
    const versions = await legacyVersions()
    expect(versions[0]).toBe('v2')
    expect(versions[2]).toBe('v3')
  })
})
