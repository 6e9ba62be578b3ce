import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {startLoopbackSshd, type HostKeyKind, type LoopbackSshd} from '../support/sshd.js'

/** The SHA256 fingerprint OpenSSH itself computes for a public key file. */
const sshFingerprint = (publicKeyFile: string) => execFileSync('ssh-keygen', ['-lf', publicKeyFile], {encoding: 'utf8'}).split(' ')[1]!

// A host whose known_hosts line holds a key of one type while it now presents only a key of another
// type is a changed key (a possible man-in-the-middle), not an unknown one: every command and
// `ctl ssh trust` refuse it. Real OpenSSH servers on loopback.
describe('host key of another type than the recorded one', () => {
  let work: string
  let auditLog: string
  /** Offers only its ecdsa key; known_hosts will hold its ed25519 key. */
  let ecdsaOnly: LoopbackSshd
  /** Offers both keys; known_hosts will hold only its ecdsa key. */
  let both: LoopbackSshd

  const inventory = (sshd: LoopbackSshd, recorded: HostKeyKind) => {
    const knownHosts = join(work, `known_hosts-${Math.random().toString(36).slice(2)}`)
    writeFileSync(knownHosts, `# recorded earlier\n${sshd.hostKeys[recorded].knownHostsLine}\n`)
    const file = join(work, `inv-${Math.random().toString(36).slice(2)}.yml`)
    writeFileSync(
      file,
      `name: loop\nssh:\n  user: root\n  key: ${sshd.clientKey}\n  knownHosts: ${knownHosts}\n  connectTimeoutMs: 3000\nnodes:\n  - {name: one, address: 127.0.0.1, ssh: {port: ${sshd.port}}, role: manager}\n`,
    )
    return {file, knownHosts}
  }
  const env = () => ({CTL_AUDIT_LOG: auditLog})

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ctl-hostkey-'))
    auditLog = join(work, 'audit.log')
    ecdsaOnly = await startLoopbackSshd({offer: ['ecdsa']})
    both = await startLoopbackSshd({offer: ['ed25519', 'ecdsa']})
  })
  afterAll(() => {
    ecdsaOnly?.stop()
    both?.stop()
  })

  /** What every refusal must say: the host, both keys with their types, and what to do. */
  const expectManInTheMiddleRefusal = (text: string, knownHosts: string) => {
    const presented = sshFingerprint(ecdsaOnly.hostKeys.ecdsa.publicKeyFile)
    const recorded = sshFingerprint(ecdsaOnly.hostKeys.ed25519.publicKeyFile)
    expect(text).toContain(
      `HOST KEY CHANGED for one ([127.0.0.1]:${ecdsaOnly.port}): it presented ecdsa-sha2-nistp256 ${presented}, but ${knownHosts} records ssh-ed25519 ${recorded} (line 2)`,
    )
    expect(text).toMatch(/man-in-the-middle/)
    expect(text).toMatch(/out of band/)
    expect(text).toContain(`ssh-keygen -R '[127.0.0.1]:${ecdsaOnly.port}' -f ${knownHosts}`)
    expect(text).toMatch(/ctl never replaces a recorded key/)
  }

  it('ctl exec refuses it as a possible man-in-the-middle and runs nothing', async () => {
    const {file, knownHosts} = inventory(ecdsaOnly, 'ed25519')
    const marker = join(work, 'ran-behind-a-changed-key')
    const run = await runCtl(['exec', file, '--', 'touch', marker], {env: env()})
    expect(run.exitCode).toBe(1)
    expectManInTheMiddleRefusal(run.stdout + run.stderr, knownHosts)
    expect(existsSync(marker)).toBe(false)
    const result = json(await runCtl(['exec', file, '--json', '--', 'touch', marker], {env: env()})).results[0]
    expect(result).toMatchObject({node: 'one', ok: false})
    expectManInTheMiddleRefusal(`${result.error}\n${result.hint}`, knownHosts)
    expect(existsSync(marker)).toBe(false)
  })

  it('ctl ssh trust --yes refuses it and leaves known_hosts as it was', async () => {
    const {file, knownHosts} = inventory(ecdsaOnly, 'ed25519')
    const before = readFileSync(knownHosts, 'utf8')
    const mtime = statSync(knownHosts).mtimeMs
    const run = await runCtl(['ssh', 'trust', file, '--yes'], {env: env()})
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toMatch(/SHA256:\S+\s+changed: possible man-in-the-middle/)
    expectManInTheMiddleRefusal(run.stderr, knownHosts)
    expect(run.stderr).toMatch(/nothing was recorded/)
    expect(readFileSync(knownHosts, 'utf8')).toBe(before)
    expect(statSync(knownHosts).mtimeMs).toBe(mtime)
    const asJson = await runCtl(['ssh', 'trust', file, '--yes', '--json'], {env: env()})
    expect(asJson.exitCode).toBe(2)
    expect(json(asJson)).toMatchObject({error: 'ssh.host-key-changed', host: 'one', exitCode: 2})
    expect(readFileSync(knownHosts, 'utf8')).toBe(before)
  })

  it('a host that still offers its recorded type is asked for that key and accepted', async () => {
    // The server offers ed25519 too, which ssh2 prefers by default: only the recorded ecdsa key may be used.
    const {file, knownHosts} = inventory(both, 'ecdsa')
    const before = readFileSync(knownHosts, 'utf8')
    const run = await runCtl(['exec', file, '--json', '--', 'echo', 'reached'], {env: env()})
    expect(run.exitCode).toBe(0)
    expect(json(run).results[0]).toMatchObject({node: 'one', ok: true, stdout: 'reached'})
    const trust = await runCtl(['ssh', 'trust', file, '--yes'], {env: env()})
    expect(trust.exitCode).toBe(0)
    expect(trust.stdout).toContain(`${sshFingerprint(both.hostKeys.ecdsa.publicKeyFile)}  known`)
    expect(readFileSync(knownHosts, 'utf8')).toBe(before)
  })
})
