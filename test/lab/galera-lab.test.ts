import {afterAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {breakLab, clusterUuid, control, ensureHealthy, members, status, waitFor} from './support/galera.js'

// The lab's Galera break scenarios break what they say, and `ctl lab up` repairs them (through the
// galera-recover runbook over SSH), keeping the cluster's uuid.

async function labUpGalera() {
  const run = await runCtl(['lab', 'up', '--only', 'galera', '--json'], {timeoutMs: 600_000})
  expect(run.exitCode, run.stderr).toBe(0)
  expect(json(run).components).toEqual([{component: 'galera', ok: true}])
}

async function expectThreeSynced(uuid: string) {
  for (const m of members) expect(await status(m), m).toMatchObject({clusterStatus: 'Primary', localState: 'Synced', clusterSize: 3, clusterUuid: uuid})
}

describe('lab galera scenarios', () => {
  afterAll(async () => {
    await ensureHealthy()
  })

  it('lab up on a healthy cluster changes nothing', async () => {
    await ensureHealthy()
    const pids = await Promise.all(members.map(async (m) => (await control(m, 'status')).stdout))
    await labUpGalera()
    expect(await Promise.all(members.map(async (m) => (await control(m, 'status')).stdout))).toEqual(pids)
  })

  it('galera-node-loss kills one member, the other two stay Primary; lab up brings it back', async () => {
    await ensureHealthy()
    const uuid = await clusterUuid()
    await breakLab('galera-node-loss', 'h2')
    expect((await control('h2', 'status')).code).not.toBe(0)
    await waitFor('a Primary component of 2', async () => ((await status('h1'))?.clusterSize === 2 ? true : undefined))
    expect(await status('h3')).toMatchObject({clusterStatus: 'Primary', clusterSize: 2})
    await labUpGalera()
    await expectThreeSynced(uuid)
  })

  it('galera-crash kills every mariadbd; lab up recovers the same cluster', async () => {
    await ensureHealthy()
    const uuid = await clusterUuid()
    await breakLab('galera-crash')
    for (const m of members) expect((await control(m, 'status')).code, m).not.toBe(0)
    await labUpGalera()
    await expectThreeSynced(uuid)
  })
})
