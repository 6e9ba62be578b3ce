import {describe, expect, it} from 'vitest'
import {CtlError, ExitCode} from '../../../src/lib/errors.js'
import {setProgressQuiet} from '../../../src/lib/progress.js'
import {nodesReadingFacts, runChecks} from '../../../src/checks/run.js'
import {sshCheck} from '../../../src/checks/all/ssh.js'
import {diskFreeCheck} from '../../../src/checks/all/disk-free.js'
import {memoryCheck} from '../../../src/checks/all/memory.js'
import {clockSkewCheck} from '../../../src/checks/all/clock-skew.js'
import {dockerEngineCheck} from '../../../src/checks/all/docker-engine.js'
import {swarmPortsCheck} from '../../../src/checks/all/swarm-ports.js'
import {allChecks} from '../../../src/checks/registry.js'
import {nodeTargets} from '../../../src/checks/targets.js'
import type {CheckDefinition} from '../../../src/checks/types.js'
import type {LoadedInventory} from '../../../src/inventory/load.js'
import {inventorySchema} from '../../../src/inventory/schema/index.js'
import type {InventoryNode} from '../../../src/inventory/schema/index.js'
import type {RemoteResult, SshPool} from '../../../src/ssh/pool.js'

// The orchestration only: a stand-in transport where host "down" refuses connections. The real
// transport is exercised by test/lab/check-preflight.test.ts.
const inventory = inventorySchema.parse({
  name: 't',
  nodes: [
    {name: 'up1', address: '10.0.0.1'},
    {name: 'up2', address: '10.0.0.2'},
    {name: 'down', address: '10.0.0.3'},
  ],
})
const loaded: LoadedInventory = {env: 't', file: '/tmp/t.yml', inventory}

function fakePool(calls: string[]): SshPool {
  const refuse = (node: InventoryNode) => {
    if (node.name === 'down') throw new CtlError('Cannot connect to down', {code: 'ssh.connect', exitCode: ExitCode.cannotRun, hint: 'is sshd running?'})
  }
  return {
    async connect(node: InventoryNode) {
      calls.push(`${node.name}: connect`)
      refuse(node)
    },
    async run(node: InventoryNode, command: readonly string[] | {script: string}): Promise<RemoteResult> {
      const text = 'script' in command ? command.script : command.join(' ')
      calls.push(`${node.name}: ${text}`)
      refuse(node)
      return {node: node.name, command: text, code: 0, stdout: 'Linux 6\n', stderr: '', durationMs: 1}
    },
  } as unknown as SshPool
}

const echoCheck: CheckDefinition = {
  id: 'echo',
  title: 'echo',
  needs: 'nothing',
  targets: (inv) => nodeTargets(inv),
  async run(ctx, target) {
    await ctx.remote.run(target.node!, ['echo'])
    return {status: 'pass', detail: 'ok'}
  },
}
const hangingCheck: CheckDefinition = {id: 'hang', title: 'hang', needs: 'nothing', targets: () => [{name: 'cluster'}], run: () => new Promise(() => undefined)}
const throwingCheck: CheckDefinition = {
  id: 'boom',
  title: 'boom',
  needs: 'nothing',
  targets: () => [{name: 'cluster'}],
  run: async () => {
    throw new CtlError('tool missing', {hint: 'install it'})
  },
}
const emptyCheck: CheckDefinition = {
  id: 'none',
  title: 'none',
  needs: 'nothing',
  targets: () => [],
  skipReason: 'no galera in the inventory',
  run: async () => ({status: 'pass', detail: ''}),
}

setProgressQuiet(true)

describe('runChecks', () => {
  it('reports a down host once as an ssh failure and does not try it again for other checks', async () => {
    const calls: string[] = []
    const results = await runChecks(loaded, fakePool(calls), [sshCheck, echoCheck, memoryCheck], {concurrency: 4})
    expect(results.slice(0, 6).map((r) => `${r.check} ${r.target} ${r.status}`)).toEqual([
      'ssh up1 pass',
      'ssh up2 pass',
      'ssh down fail',
      'echo up1 pass',
      'echo up2 pass',
      'echo down error',
    ])
    expect(results[2]!.hint).toBe('is sshd running?')
    expect(results[5]!.detail).toMatch(/^not run: down is unreachable over SSH/)
    // The host facts the ssh check could not read are not reused: memory says why it did not run.
    expect(results.find((r) => r.check === 'memory' && r.target === 'down')!.detail).toMatch(/^not run: down is unreachable over SSH/)
    // One connection attempt, and no command
    expect(calls.filter((c) => c.startsWith('down'))).toEqual(['down: connect'])
  })

  it('reads kernel, disk and memory of a host with one command shared by three checks', async () => {
    const calls: string[] = []
    await runChecks(loaded, fakePool(calls), [sshCheck, diskFreeCheck, memoryCheck], {concurrency: 4})
    const up1 = calls.filter((c) => c.startsWith('up1') && c !== 'up1: connect')
    expect(up1).toHaveLength(1)
    expect(up1[0]).toContain('df -Pk -- /')
  })

  it('gathers every host fact of the host-level checks with one command per host: clock, engine, ports, disk, memory', async () => {
    const calls: string[] = []
    await runChecks(loaded, fakePool(calls), [sshCheck, dockerEngineCheck, diskFreeCheck, memoryCheck, clockSkewCheck, swarmPortsCheck], {concurrency: 4})
    for (const host of ['up1', 'up2'])
      expect(
        calls.filter((c) => c.startsWith(`${host}:`)),
        host,
      ).toEqual([`${host}: connect`, expect.any(String)])
    expect(calls.filter((c) => c.startsWith('down:'))).toEqual(['down: connect'])
    const up1 = calls.filter((c) => c.startsWith('up1:'))[1]!
    for (const part of ['date +%s%N', 'uname -sr', 'df -Pk', '/proc/meminfo', 'version --format', '/dev/tcp/$1/$2']) expect(up1).toContain(part)
  })

  it('starts the other checks once the hosts are connected, without waiting for the facts command', async () => {
    const events: string[] = []
    const slowFacts = {
      async connect() {},
      async run(node: InventoryNode): Promise<RemoteResult> {
        await new Promise((r) => setTimeout(r, 200))
        events.push(`facts ${node.name}`)
        return {node: node.name, command: 'facts', code: 0, stdout: 'Linux 6\n', stderr: '', durationMs: 200}
      },
    } as unknown as SshPool
    const apiCheck: CheckDefinition = {
      id: 'api',
      title: 'api',
      needs: 'the Engine API',
      targets: () => [{name: 'cluster'}],
      run: async () => {
        events.push('api')
        return {status: 'pass', detail: 'ok'}
      },
    }
    await runChecks(loaded, slowFacts, [sshCheck, apiCheck], {concurrency: 4})
    expect(events[0]).toBe('api')
    expect(events).toHaveLength(4)
  })

  it("sends a host's facts command as soon as it is connected, while the other hosts still connect", async () => {
    const events: string[] = []
    const staggered = {
      async connect(node: InventoryNode) {
        // up1 connects at once, up2 and down later
        await new Promise((r) => setTimeout(r, node.name === 'up1' ? 0 : 150))
        events.push(`connected ${node.name}`)
      },
      async run(node: InventoryNode): Promise<RemoteResult> {
        events.push(`facts ${node.name}`)
        return {node: node.name, command: 'facts', code: 0, stdout: 'Linux 6\n', stderr: '', durationMs: 1}
      },
    } as unknown as SshPool
    const results = await runChecks(loaded, staggered, [sshCheck, memoryCheck], {concurrency: 4})
    expect(events.indexOf('facts up1')).toBeLessThan(events.indexOf('connected up2'))
    // Still one command per host, shared by the checks
    expect(events.filter((e) => e.startsWith('facts')).sort()).toEqual(['facts down', 'facts up1', 'facts up2'])
    expect(results.filter((r) => r.check === 'ssh').map((r) => r.status)).toEqual(['pass', 'pass', 'pass'])
  })

  it('sends no facts command to a host no selected check reads the facts of', async () => {
    const calls: string[] = []
    await runChecks(loaded, fakePool(calls), [echoCheck], {concurrency: 4})
    expect(calls.filter((c) => c.includes('uname'))).toEqual([])
  })

  it('turns a check that hangs into an error row after its budget, and one that throws into an error with its hint', async () => {
    const started = Date.now()
    const results = await runChecks(loaded, fakePool([]), [hangingCheck, throwingCheck, emptyCheck], {concurrency: 4, timeoutMs: 300})
    expect(Date.now() - started).toBeLessThan(3000)
    expect(results.map((r) => [r.check, r.status, r.detail, r.hint])).toEqual([
      ['hang', 'error', 'timed out after 300 ms', 'The host or service may be stuck; rerun just this check: ctl check run <env> hang'],
      ['boom', 'error', 'tool missing', 'install it'],
      ['none', 'skip', 'no galera in the inventory', undefined],
    ])
  })
})

describe('runChecks after a timeout', () => {
  it('refuses the commands a timed-out check still had queued, so no connection outlives the run', async () => {
    const calls: string[] = []
    const pool = fakePool(calls)
    const slow: CheckDefinition = {
      id: 'slow',
      title: 'slow',
      needs: 'nothing',
      targets: () => [{name: 'cluster'}],
      async run(ctx) {
        await new Promise((r) => setTimeout(r, 400))
        await ctx.remote.run(inventory.nodes[0]!, ['late'])
        return {status: 'pass', detail: ''}
      },
    }
    const results = await runChecks(loaded, pool, [slow], {concurrency: 4, timeoutMs: 100})
    expect(results[0]!.status).toBe('error')
    await new Promise((r) => setTimeout(r, 500))
    expect(calls.filter((c) => c.includes('late'))).toEqual([])
  })
})

describe('nodesReadingFacts', () => {
  const swarm = inventorySchema.parse({
    name: 's',
    nodes: [
      {name: 'm1', address: '10.0.0.1', role: 'manager'},
      {name: 'db1', address: '10.0.0.2', role: 'none'},
    ],
  })
  const named = (...ids: string[]) => allChecks.filter((c) => ids.includes(c.id))
  it.each([
    {ids: ['ssh'], nodes: ['db1', 'm1']},
    {ids: ['clock-skew'], nodes: ['db1', 'm1']},
    // the engine version and the port probes: Swarm nodes only
    {ids: ['docker-engine', 'swarm-ports'], nodes: ['m1']},
    {ids: ['galera', 'vault', 'service-health'], nodes: []},
  ])('$ids: $nodes', ({ids, nodes}) => {
    expect([...nodesReadingFacts(named(...ids), swarm)].sort()).toEqual(nodes)
  })
})
