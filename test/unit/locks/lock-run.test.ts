import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {CtlError, ExitCode} from '../../../src/lib/errors.js'
import {renderCommand, type RemoteCommand} from '../../../src/lib/shell.js'
import {lockPath} from '../../../src/locks/lock.js'
import {HeldLocks, majorityRefusal, newLockInfo, takeMajority, whileHolding, type LockTarget} from '../../../src/locks/lock-run.js'
import type {InventoryNode} from '../../../src/inventory/schema/index.js'
import type {RemoteResult, RemoteRunner} from '../../../src/ssh/pool.js'

/** Runs the lock scripts with a real shell on this machine; `down` nodes cannot be reached, `failing` scripts fail. */
class LocalShell implements RemoteRunner {
  down = new Set<string>()
  failing?: RegExp
  async run(node: InventoryNode, command: RemoteCommand, options: {stdin?: string; check?: boolean} = {}): Promise<RemoteResult> {
    const text = renderCommand(command)
    if (this.down.has(node.name)) throw new CtlError(`Cannot connect to ${node.name}`, {host: node.name, code: 'ssh.connect'})
    if (this.failing?.test(text)) throw new CtlError(`Command failed with exit code 1: ${text}`, {host: node.name, code: 'remote.failed'})
    return new Promise((resolve) => {
      const child = spawn('sh', ['-c', text])
      let stdout = ''
      child.stdout.on('data', (d) => (stdout += String(d)))
      child.stdin.on('error', () => undefined)
      child.stdin.end(options.stdin ?? '')
      child.on('close', (code) => resolve({node: node.name, command: text, code: code ?? -1, stdout, stderr: '', durationMs: 1}))
    })
  }
}

const node = (name: string) => ({name, address: '10.0.0.1'}) as InventoryNode
const cluster = (dir: string) => ['h1', 'h2', 'h3'].map((n): LockTarget => ({node: node(n), dir, name: `runbook-galera-test.${n}`}))
const options = {what: 'run lock', staleAfterMinutes: 5, step: 'take run lock'}
const holderOf = (t: LockTarget) => JSON.parse(readFileSync(join(lockPath(t), 'info.json'), 'utf8')) as {holder: string; id: string}

function plant(t: LockTarget, holder: string, minutesAgo: number): void {
  mkdirSync(lockPath(t), {recursive: true})
  const since = new Date(Date.now() - minutesAgo * 60_000)
  writeFileSync(
    join(lockPath(t), 'info.json'),
    JSON.stringify({id: `${holder}-token`, holder, from: 'laptop', since: since.toISOString(), env: 'test', what: 'galera-recover run r1'}),
  )
  utimesSync(lockPath(t), since, since)
}

describe('takeMajority', () => {
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-locks-'))
    return {dir, targets: cluster(dir), shell: new LocalShell()}
  }

  it('holds the lock on every free host and releases it everywhere', async () => {
    const {targets, shell} = setup()
    const taken = await takeMajority(shell, targets, newLockInfo('test', 'galera-recover run r2'), options)
    expect('held' in taken).toBe(true)
    if (!('held' in taken)) return
    expect(targets.map((t) => holderOf(t).id)).toEqual(targets.map(() => taken.held.info.id))
    await taken.held.release()
    expect(targets.map((t) => existsSync(lockPath(t)))).toEqual([false, false, false])
  })

  it('is refused when another run holds a majority, and gives back what it took', async () => {
    const {targets, shell} = setup()
    plant(targets[0]!, 'alice', 1)
    plant(targets[1]!, 'alice', 1)
    const taken = await takeMajority(shell, targets, newLockInfo('test', 'galera-recover run r2'), options)
    expect('refusals' in taken && taken.taken).toBe(1)
    if (!('refusals' in taken)) return
    // The third host was taken, then released: alice's run is the only holder.
    expect(existsSync(lockPath(targets[2]!))).toBe(false)
    expect(holderOf(targets[0]!).holder).toBe('alice')
    const error = majorityRefusal(
      {subject: 'galera-recover on test', code: 'runbook.locked', members: 3, taken: taken.taken, staleAfterMinutes: 5},
      taken.refusals,
    )
    expect(error.exitCode).toBe(ExitCode.cannotRun)
    expect(error.code).toBe('runbook.locked')
    expect(error.host).toBe('h1')
    expect(error.message).toMatch(
      /^galera-recover on test refused: the lock is held by alice@laptop since \S+ \(1 min ago, last heartbeat \d+ s ago\), galera-recover run r1 \(taken on 1 of 3 hosts, 2 needed; h1: held/,
    )
    expect(error.hint).toContain(`ssh h1 rm -rf ${lockPath(targets[0]!)}`)
  })

  it('takes over stale locks whose holder stopped its heartbeat, and holds with a majority when a host is down', async () => {
    const {targets, shell} = setup()
    plant(targets[0]!, 'bob', 30)
    plant(targets[1]!, 'bob', 30)
    shell.down.add('h3')
    const taken = await takeMajority(shell, targets, newLockInfo('test', 'galera-recover run r3'), options)
    expect('held' in taken).toBe(true)
    if (!('held' in taken)) return
    expect(taken.held.targets.map((t) => t.node.name)).toEqual(['h1', 'h2'])
    expect(holderOf(targets[0]!).id).toBe(taken.held.info.id)
  })

  it('takes over a fresh lock at once only when the caller says it was abandoned', async () => {
    const {targets, shell} = setup()
    for (const t of targets) plant(t, 'me', 0)
    const refused = await takeMajority(shell, targets, newLockInfo('test', 'x'), options)
    expect('refusals' in refused).toBe(true)
    const taken = await takeMajority(shell, targets, newLockInfo('test', 'x'), {...options, abandoned: (view) => view.info.holder === 'me'})
    expect('held' in taken && taken.held.targets.length).toBe(3)
  })

  it('is refused when a majority of hosts cannot be reached', async () => {
    const {targets, shell} = setup()
    shell.down.add('h2').add('h3')
    const taken = await takeMajority(shell, targets, newLockInfo('test', 'x'), options)
    expect('refusals' in taken).toBe(true)
    if (!('refusals' in taken)) return
    expect(existsSync(lockPath(targets[0]!))).toBe(false)
    const error = majorityRefusal({subject: 'x on test', code: 'runbook.locked', members: 3, taken: 1, staleAfterMinutes: 5}, taken.refusals)
    expect(error.message).toBe(
      'x on test refused: the lock could not be taken (taken on 1 of 3 hosts, 2 needed; h2: could not be asked: Cannot connect to h2; h3: could not be asked: Cannot connect to h3)',
    )
  })

  it('a failed release names each lock left behind and how to remove it', async () => {
    const {targets, shell} = setup()
    const held = new HeldLocks(shell, targets.slice(0, 1), newLockInfo('test', 'x'), 'run lock of the galera cluster of test')
    shell.failing = /rm -rf/
    const error = await held.release().then(
      () => undefined,
      (e: unknown) => e as CtlError,
    )
    expect(error?.code).toBe('lock.release-failed')
    expect(error?.host).toBe('h1')
    expect(error?.message).toMatch(new RegExp(`^Could not release the run lock of the galera cluster of test \\(${lockPath(targets[0]!)} on h1\\)`))
    expect(error?.hint).toBe(`Once no ctl run holds it, remove it by hand: ssh h1 rm -rf ${lockPath(targets[0]!)}`)
  })
})

describe('whileHolding', () => {
  const failingRelease = {
    release: () =>
      Promise.reject(new CtlError('Could not release the deploy lock (/l/deploy-x.lock on h1)', {hint: 'remove it by hand: ssh h1 rm -rf /l/deploy-x.lock'})),
  }
  const okRelease = () => {
    const lock = {released: 0, release: async () => void lock.released++}
    return lock
  }

  it('returns the work and releases', async () => {
    const lock = okRelease()
    expect(await whileHolding(lock, async () => 'done')).toBe('done')
    expect(lock.released).toBe(1)
  })

  it('keeps the work error as it is when the release works', async () => {
    const lock = okRelease()
    const work = new CtlError('rollout failed', {hint: 'look at h2', exitCode: 1, host: 'h2'})
    await expect(whileHolding(lock, () => Promise.reject(work))).rejects.toBe(work)
    expect(lock.released).toBe(1)
  })

  it('reports the work error with the release failure as a note when both fail', async () => {
    const error = await whileHolding(failingRelease, () =>
      Promise.reject(new CtlError('rollout failed', {hint: 'look at h2', exitCode: 1, host: 'h2', code: 'deploy.failed'})),
    ).catch((e: unknown) => e as CtlError)
    expect(error.message).toBe('rollout failed')
    expect(error.host).toBe('h2')
    expect(error.code).toBe('deploy.failed')
    expect(error.hint).toBe('look at h2\nAlso: Could not release the deploy lock (/l/deploy-x.lock on h1). remove it by hand: ssh h1 rm -rf /l/deploy-x.lock')
  })

  it('reports the release failure when only the release fails', async () => {
    await expect(whileHolding(failingRelease, async () => 'done')).rejects.toThrow('Could not release the deploy lock (/l/deploy-x.lock on h1)')
  })
})
