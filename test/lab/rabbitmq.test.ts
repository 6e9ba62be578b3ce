import {rmSync} from 'node:fs'
import {beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {amqp, RABBIT_ADDRESS, rabbitmqctl} from './support/rabbitmq.js'
import {DATA_SIDE, expectStatusListsFirst, labStatus} from './support/status.js'

// RabbitMQ on the lab (seed 002: a 3-node cluster): the rabbitmq check, and rabbitmq-recover after a
// node's loss, a full stop (the node that stopped last first) and a full stop whose last node lost its
// data (refused, then --force-boot), with the persistent messages of a quorum queue counted afterwards.

const ADDRESS = RABBIT_ADDRESS
/**
 * A quorum queue's count once it answers with it: right after its nodes start, the queue's Raft
 * members elect a leader and replay their log (a second or two), and a declare meanwhile says 0.
 */
async function countSettled(host: string, queue: string, expected: number): Promise<number> {
  let n = await amqp('count', host, queue)
  for (const deadline = Date.now() + 30_000; n !== expected && Date.now() < deadline; n = await amqp('count', host, queue))
    await new Promise((r) => setTimeout(r, 1000))
  return n
}
const check = async () => json(await runCtl(['check', 'run', 'lab', 'rabbitmq', '--json']))
const rows = (report: any) => report.results.filter((r: any) => r.check === 'rabbitmq')
const recover = async (...args: string[]) => {
  const run = await runCtl(['runbook', 'rabbitmq-recover', 'lab', ...args, '--json'], {timeoutMs: 600_000})
  return {exitCode: run.exitCode, result: json(run)}
}
async function healthy(): Promise<void> {
  const up = await runCtl(['lab', 'up', '--only', 'rabbitmq', '--json'], {timeoutMs: 600_000})
  expect(up.exitCode, up.stderr).toBe(0)
  expect(rows(await check()).map((r: any) => r.status)).toEqual(['pass', 'pass', 'pass'])
}

describe('RabbitMQ (lab)', () => {
  beforeAll(healthy)

  it('the rabbitmq check passes on every node: running, clustered, no partition, no alarm', async () => {
    for (const r of rows(await check())) expect(r.detail).toMatch(/^rabbit@198\.18\.0\.1\d: 3 of 3 nodes running, no partition, no alarm$/)
    const nothing = await recover('--yes')
    expect(nothing.exitCode).toBe(0)
    expect(nothing.result.finishedEarly).toMatch(/every node runs/)
  })

  it('rabbitmq-node-down: the check fails on that node; rabbitmq-recover starts it and it rejoins', async () => {
    const {report: before} = await labStatus()
    const broke = await runCtl(['lab', 'break', 'rabbitmq-node-down', 'h2', '--yes'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    expect(rows(await check()).find((r: any) => r.target === 'h2')).toMatchObject({status: 'fail'})
    await expectStatusListsFirst(before, 'rabbitmq', 'h2', DATA_SIDE)
    const run = await recover('--yes')
    expect(run.exitCode, JSON.stringify(run.result.error)).toBe(0)
    expect(run.result.summary.decision).toMatchObject({action: 'start', first: [], then: ['h2']})
    expect(rows(await check()).map((r: any) => r.status)).toEqual(['pass', 'pass', 'pass'])
  })

  it('rabbitmq-full-stop: the node that stopped last starts first, the others join; every persistent message is there', async () => {
    expect(await amqp('publish', ADDRESS.h1!, 'ctl-full-stop', '200')).toBe(200)
    const {report: before} = await labStatus()
    const broke = await runCtl(['lab', 'break', 'rabbitmq-full-stop', '--yes'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    const status = await expectStatusListsFirst(before, 'rabbitmq', /^h[123]$/, DATA_SIDE)
    expect(status.clusters.find((c) => c.name === 'rabbitmq')).toMatchObject({state: 'down'})
    const dry = await recover('--dry-run')
    expect(dry.exitCode, JSON.stringify(dry.result.error)).toBe(0)
    expect(dry.result.summary.decision).toMatchObject({action: 'start', first: ['h3'], then: ['h1', 'h2']})
    const run = await recover('--yes')
    expect(run.exitCode, JSON.stringify(run.result.error)).toBe(0)
    expect(await countSettled(ADDRESS.h2!, 'ctl-full-stop', 200)).toBe(200)
    expect(rows(await check()).map((r: any) => r.status)).toEqual(['pass', 'pass', 'pass'])
  })

  it('a full stop whose last node lost its data: refused naming --force-boot; with it the others boot and keep the quorum queue', async () => {
    expect(await amqp('publish', ADDRESS.h1!, 'ctl-lost-last', '150')).toBe(150)
    const broke = await runCtl(['lab', 'break', 'rabbitmq-full-stop', '--yes'])
    expect(broke.exitCode, broke.stderr).toBe(0)
    rmSync('/var/lib/ctl-lab/h3/rabbitmq/mnesia', {recursive: true, force: true})
    const refused = await recover('--yes')
    expect(refused.exitCode).toBe(2)
    expect(refused.result.error).toMatchObject({code: 'rabbitmq.last-node-lost', hint: expect.stringContaining('--force-boot h2')})
    const run = await recover('--force-boot', 'h2', '--yes')
    expect(run.exitCode, JSON.stringify(run.result.error)).toBe(0)
    expect(run.result.summary).toMatchObject({decision: {action: 'start', first: ['h2'], then: ['h1'], forceBoot: 'h2'}, lost: ['h3']})
    expect(await countSettled(ADDRESS.h1!, 'ctl-lost-last', 150)).toBe(150)
    // Replace the lost node: the others forget it, the lab starts it afresh and it joins.
    expect((await rabbitmqctl('h1', 'forget_cluster_node', `rabbit@${ADDRESS.h3}`)).exitCode).toBe(0)
    await healthy()
    expect(await countSettled(ADDRESS.h3!, 'ctl-lost-last', 150)).toBe(150)
  })
})
