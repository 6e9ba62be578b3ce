import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {readRabbitFacts} from '../../../src/rabbitmq/access.js'
import {parseRabbitFacts, parseRabbitViews, rabbitFactsCommand} from '../../../src/rabbitmq/facts.js'
import type {RemoteCommand} from '../../../src/lib/shell.js'

// How ctl reads a RabbitMQ cluster: one node gathers every member's view over Erlang distribution
// (one CLI VM, not three); a member whose view did not come is read on its own node. The runner here
// answers as the lab's nodes do (outputs measured there), by which command it gets.

const N = (i: number) => `rabbit@10.0.0.${i}`
const view = (running: number[]) => JSON.stringify({alarms: [], disk_nodes: [N(1), N(2), N(3)], partitions: {}, running_nodes: running.map(N)})
const inventory = {
  databases: {
    rabbitmq: {
      longNames: true,
      rabbitmqctl: '/usr/lib/rabbitmq/bin/rabbitmqctl',
      members: [1, 2, 3].map((i) => ({node: `mq${i}`, nodeName: N(i), mnesiaDir: `/var/lib/rabbitmq/mnesia/${N(i)}`})),
    },
  },
} as never

type Answer = (node: string, script: string) => string | Error

function reader(answer: Answer) {
  const calls: {node: string; kind: string}[] = []
  const run = async (node: string, command: RemoteCommand) => {
    const script = 'script' in command ? command.script : ''
    const kind = script.includes('rpc:multicall') ? 'views' : script.includes('eval') ? 'own-view' : 'files'
    calls.push({node, kind})
    const out = answer(node, script)
    if (out instanceof Error) throw out
    return {code: 0, stdout: out, stderr: ''}
  }
  return {calls, read: () => readRabbitFacts({inventory}, run)}
}

const files = '== shutdown\n== mnesia\npresent\n'

describe('reading a RabbitMQ cluster', () => {
  it('parses the views one node gathered, by member, skipping eval’s own `ok`', () => {
    const out = `== view ${N(1)}\n${view([1, 2])}\n== view ${N(2)}\n${view([1, 2])}\nok\n`
    const views = parseRabbitViews(out)
    expect([...views.keys()]).toEqual([N(1), N(2)])
    expect(JSON.parse(views.get(N(2))!).running_nodes).toEqual([N(1), N(2)])
    expect(parseRabbitViews('Error: unable to perform an operation on node\n').size).toBe(0)
  })

  it('healthy: one views call on the first member, the files on each, no per-node eval', async () => {
    const all = [1, 2, 3].map((i) => `== view ${N(i)}\n${view([1, 2, 3])}`).join('\n') + '\nok\n'
    const {calls, read} = reader((_node, script) => (script.includes('rpc:multicall') ? all : files))
    const facts = await read()
    expect(facts.map((f) => [f.node, f.running, f.runningNodes.length])).toEqual([
      ['mq1', true, 3],
      ['mq2', true, 3],
      ['mq3', true, 3],
    ])
    expect(calls.filter((c) => c.kind !== 'files')).toEqual([{node: 'mq1', kind: 'views'}])
  })

  it('a member that did not answer the views call is read on its own node, with its own error', async () => {
    const two = [1, 2].map((i) => `== view ${N(i)}\n${view([1, 2])}`).join('\n') + '\nok\n'
    const {calls, read} = reader((node, script) =>
      script.includes('rpc:multicall') ? two : script.includes('eval') ? `== status\nError: unable to perform an operation on node '${N(3)}'\n${files}` : files,
    )
    const facts = await read()
    expect(facts[2]).toMatchObject({node: 'mq3', running: false})
    expect(facts[2]!.error).toMatch(/unable to perform/)
    expect(facts[0]).toMatchObject({running: true, runningNodes: [N(1), N(2)]})
    expect(calls.filter((c) => c.kind === 'own-view')).toEqual([{node: 'mq3', kind: 'own-view'}])
  })

  it('the first node unreachable over SSH: the next one gathers, the first is reported lost', async () => {
    const rest = [2, 3].map((i) => `== view ${N(i)}\n${view([2, 3])}`).join('\n') + '\nok\n'
    const {calls, read} = reader((node, script) =>
      node === 'mq1' ? new Error('mq1 is unreachable over SSH') : script.includes('rpc:multicall') ? rest : files,
    )
    const facts = await read()
    expect(calls.filter((c) => c.kind === 'views').map((c) => c.node)).toEqual(['mq1', 'mq2'])
    expect(facts[0]).toMatchObject({node: 'mq1', running: false, lost: 'its node does not answer over SSH (mq1 is unreachable over SSH)'})
    expect(facts.slice(1).every((f) => f.running)).toBe(true)
  })
})

describe('the eval script, run by a real shell', () => {
  // erl_call (Erlang distribution, no VM to boot) answers `{ok, "<base64>"}`; when it is missing or
  // fails, rabbitmqctl eval answers instead. Stand-ins for both, as the lab's answer.
  const json = '{"alarms":[],"disk_nodes":["rabbit@a"],"partitions":{},"running_nodes":["rabbit@a"]}'
  function runOwnView(erlCall: string | undefined): string {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-rabbit-'))
    const home = join(dir, 'home')
    mkdirSync(home)
    writeFileSync(join(home, '.erlang.cookie'), 'cookie', {mode: 0o400})
    writeFileSync(join(dir, 'rabbitmqctl'), `#!/bin/sh\necho '${json}'\necho ok\n`, {mode: 0o755})
    if (erlCall) writeFileSync(join(dir, 'erl_call'), `#!/bin/sh\ncat > ${dir}/expression\n${erlCall}\n`, {mode: 0o755})
    const member = {node: 'mq1', nodeName: 'rabbit@a', mnesiaDir: join(dir, 'mnesia')}
    const command = rabbitFactsCommand({longNames: true, rabbitmqctl: join(dir, 'rabbitmqctl')}, member)
    const r = spawnSync('sh', ['-c', 'script' in command ? command.script : ''], {encoding: 'utf8', env: {PATH: `${dir}:/usr/bin:/bin`, HOME: home}})
    return r.stdout
  }

  it('reads the view through erl_call, decoding its base64 answer', () => {
    const out = runOwnView(`printf '{ok, "%s"}' "$(printf '%s\\n' '${json}' | base64 -w0)"`)
    expect(out).toBe(`== status\n${json}\n== shutdown\n== mnesia\nmissing\n`)
    expect(parseRabbitFacts({node: 'mq1', nodeName: 'rabbit@a'}, out)).toMatchObject({running: true, runningNodes: ['rabbit@a']})
  })

  it('falls back to rabbitmqctl eval when erl_call is missing or fails', () => {
    const viaCtl = `== status\n${json}\nok\n== shutdown\n== mnesia\nmissing\n`
    expect(runOwnView(undefined)).toBe(viaCtl)
    expect(runOwnView(`echo 'erl_call: failed to connect to node rabbit@a' >&2; exit 1`)).toBe(viaCtl)
    expect(runOwnView(`echo '{error, {badrpc, nodedown}}'`)).toBe(viaCtl)
  })
})
