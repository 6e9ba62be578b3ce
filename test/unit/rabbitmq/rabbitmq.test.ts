import {describe, expect, it} from 'vitest'
import {parseErlangAtomList, parseRabbitFacts, type RabbitNodeFacts} from '../../../src/rabbitmq/facts.js'
import {judgeRabbitmq} from '../../../src/rabbitmq/judge.js'
import {decideRabbitRecovery} from '../../../src/rabbitmq/recover.js'

const N = (i: number) => `rabbit@10.0.0.${i}`
const status = (running: number[], partitions: Record<string, string[]> = {}, alarms: unknown[] = []) =>
  JSON.stringify({alarms, cluster_name: N(1), disk_nodes: [N(1), N(2), N(3)], partitions, ram_nodes: [], running_nodes: running.map(N)})

describe('RabbitMQ facts', () => {
  it('reads cluster_status JSON, the clean-stop record and whether the Mnesia directory exists', () => {
    const f = parseRabbitFacts({node: 'mq1', nodeName: N(1)}, `== status\n${status([1, 2, 3])}\n== shutdown\n['${N(1)}','${N(2)}'].\n== mnesia\npresent\n`)
    expect(f).toMatchObject({running: true, runningNodes: [N(1), N(2), N(3)], runningAtShutdown: [N(1), N(2)], alarms: []})
    expect(f.lost).toBeUndefined()
    const down = parseRabbitFacts({node: 'mq3', nodeName: N(3)}, `== status\nError: unable to perform an operation on node\n== shutdown\n== mnesia\nmissing\n`)
    expect(down).toMatchObject({running: false, error: 'Error: unable to perform an operation on node', lost: 'its Mnesia directory is gone'})
    expect(parseErlangAtomList("['rabbit@10.0.0.3'].\n")).toEqual(['rabbit@10.0.0.3'])
  })

  it("reads the eval's view: the JSON line before eval's own `ok`, its partition and alarms as text", () => {
    const view = JSON.stringify({
      alarms: ['memory on rabbit@10.0.0.2'],
      disk_nodes: [N(1), N(2), N(3)],
      partitions: {[N(1)]: [N(3)]},
      running_nodes: [N(1), N(2)],
    })
    const f = parseRabbitFacts({node: 'mq1', nodeName: N(1)}, `== status\n${view}\nok\n== mnesia\npresent\n`)
    expect(f).toMatchObject({running: true, runningNodes: [N(1), N(2)], partitions: {[N(1)]: [N(3)]}, alarms: ['memory on rabbit@10.0.0.2']})
    expect(judgeRabbitmq('lab', [f])[0]).toMatchObject({status: 'fail', detail: `network partition: ${N(1)} cannot see ${N(3)}`})
  })
})

const fact = (i: number, over: Partial<RabbitNodeFacts> = {}): RabbitNodeFacts => ({
  node: `mq${i}`,
  nodeName: N(i),
  running: true,
  runningNodes: [N(1), N(2), N(3)],
  diskNodes: [N(1), N(2), N(3)],
  partitions: {},
  alarms: [],
  ...over,
})
const stopped = (i: number, atShutdown: number[] | undefined, lost?: string): RabbitNodeFacts => ({
  ...fact(i, {running: false, runningNodes: [], diskNodes: [], error: 'not running'}),
  ...(atShutdown ? {runningAtShutdown: atShutdown.map(N)} : {}),
  ...(lost ? {lost} : {}),
})

describe('rabbitmq check', () => {
  it('passes a whole cluster; fails a node down, a partition, a missing node, an alarm', () => {
    expect(judgeRabbitmq('lab', [fact(1), fact(2), fact(3)]).map((f) => f.status)).toEqual(['pass', 'pass', 'pass'])
    const [, , down] = judgeRabbitmq('lab', [fact(1, {runningNodes: [N(1), N(2)]}), fact(2, {runningNodes: [N(1), N(2)]}), stopped(3, undefined)])
    expect(down).toMatchObject({status: 'fail', hint: expect.stringContaining('rabbitmq-recover lab')})
    const [one] = judgeRabbitmq('lab', [fact(1, {runningNodes: [N(1), N(2)]}), fact(2), fact(3)])
    expect(one!.detail).toBe(`the cluster runs 2 of 3 nodes: ${N(3)} not running`)
    const [split] = judgeRabbitmq('lab', [fact(1, {partitions: {[N(1)]: [N(3)]}}), fact(2), fact(3)])
    expect(split).toMatchObject({status: 'fail', detail: `network partition: ${N(1)} cannot see ${N(3)}`})
    const [alarm] = judgeRabbitmq('lab', [fact(1, {alarms: ['memory on rabbit@10.0.0.1']}), fact(2), fact(3)])
    expect(alarm).toMatchObject({status: 'fail', detail: 'alarm: memory on rabbit@10.0.0.1'})
  })
})

describe('rabbitmq-recover: the decision', () => {
  it('a whole cluster: nothing to do', () => {
    expect(decideRabbitRecovery([fact(1), fact(2), fact(3)], 'lab').action).toBe('healthy')
  })

  it('a full stop one after another: the node that stopped last first, the others after it', () => {
    expect(decideRabbitRecovery([stopped(1, [1, 2, 3]), stopped(2, [2, 3]), stopped(3, [3])], 'lab')).toMatchObject({
      action: 'start',
      first: ['mq3'],
      then: ['mq1', 'mq2'],
    })
  })

  it('nodes that stopped together start together', () => {
    expect(decideRabbitRecovery([stopped(1, [1, 2]), stopped(2, [1, 2]), stopped(3, [1, 2, 3])], 'lab')).toMatchObject({
      action: 'start',
      first: ['mq1', 'mq2'],
      then: ['mq3'],
    })
  })

  it('the node that stopped last is lost: refused, naming the next one for --force-boot; with it, a force_boot', () => {
    const facts = [stopped(1, [1, 2, 3]), stopped(2, [2, 3]), stopped(3, undefined, 'its Mnesia directory is gone')]
    const refused = decideRabbitRecovery(facts, 'prod')
    expect(refused).toMatchObject({action: 'refuse', code: 'rabbitmq.last-node-lost', hint: expect.stringContaining('--force-boot mq2')})
    expect(decideRabbitRecovery(facts, 'prod', 'mq2')).toMatchObject({action: 'start', first: ['mq2'], then: ['mq1'], forceBoot: 'mq2'})
    expect(decideRabbitRecovery(facts, 'prod', 'mq3')).toMatchObject({action: 'refuse', code: 'rabbitmq.bad-force-boot'})
  })

  it('no node recorded a clean stop (all killed): refused, never a guess', () => {
    expect(decideRabbitRecovery([stopped(1, undefined), stopped(2, undefined), stopped(3, undefined)], 'lab')).toMatchObject({
      action: 'refuse',
      code: 'rabbitmq.unknown-order',
    })
  })

  it('one node down while the others run: start it; a partition: restart the minority side', () => {
    expect(decideRabbitRecovery([fact(1, {runningNodes: [N(1), N(2)]}), fact(2, {runningNodes: [N(1), N(2)]}), stopped(3, undefined)], 'lab')).toMatchObject({
      action: 'start',
      first: [],
      then: ['mq3'],
    })
    const partition = [
      fact(1, {runningNodes: [N(1), N(2)], partitions: {[N(1)]: [N(3)]}}),
      fact(2, {runningNodes: [N(1), N(2)], partitions: {[N(2)]: [N(3)]}}),
      fact(3, {runningNodes: [N(3)], partitions: {[N(3)]: [N(1), N(2)]}}),
    ]
    expect(decideRabbitRecovery(partition, 'lab')).toMatchObject({action: 'heal', keep: ['mq1', 'mq2'], restart: ['mq3']})
  })
})
