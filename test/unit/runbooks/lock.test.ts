import {describe, expect, it} from 'vitest'
import {CtlError} from '../../../src/lib/errors.js'
import {parseInventory} from '../../../src/inventory/load.js'
import type {LoadedInventory} from '../../../src/inventory/load.js'
import {runbooks} from '../../../src/runbooks/index.js'
import {planRunbookLock, runbookCluster, withReleaseFailure} from '../../../src/runbooks/lock.js'
import type {RunbookRunResult} from '../../../src/runbooks/types.js'

const control = '{kind: commands, start: [s], stop: [s], kill: [s], status: [s]}'
function inventory(databases: string): LoadedInventory {
  const text = `name: t\nnodes:\n  - {name: m1, address: 10.0.0.1, role: manager}\n  - {name: h1, address: 10.0.0.2}\n  - {name: h2, address: 10.0.0.3}\n  - {name: h3, address: 10.0.0.4}\n${databases}`
  const {inventory: inv, problems} = parseInventory(text, '/tmp/t.yml')
  if (!inv) throw new Error(JSON.stringify(problems))
  return {env: 'prod', file: '/tmp/t.yml', inventory: inv}
}
const galera = `databases:\n  galera:\n    members:\n${['h1', 'h2', 'h3'].map((h) => `      - {node: ${h}, control: ${control}}`).join('\n')}\n`
const patroni = `databases:\n  patroni:\n    scope: pg\n    members:\n${['h2', 'h3'].map((h, i) => `      - {node: ${h}, name: pg${i}, control: ${control}}`).join('\n')}\n`

describe('runbook locks', () => {
  it.each([
    ['galera-recover', 'galera'],
    ['mariadb-backup', 'galera'],
    ['mariadb-restore', 'galera'],
    ['patroni-failover', 'patroni'],
    ['patroni-switchover', 'patroni'],
    ['pg-backup', 'patroni'],
    ['pg-restore', 'patroni'],
    ['vault-unseal', undefined],
  ])('%s works on the %s cluster', (runbook, cluster) => {
    expect(runbookCluster(runbook)).toBe(cluster)
  })

  it('every runbook that changes a cluster takes its lock; restores into scratch servers and the binlog archive do not', () => {
    const takes = (name: string, options: object = {}) => runbooks.find((r) => r.name === name)!.takesClusterLock?.(options) !== false
    expect(runbooks.filter((r) => !takes(r.name)).map((r) => r.name)).toEqual(['pg-pitr', 'mariadb-pitr', 'mariadb-binlog-archive'])
    // pg-pitr --into writes a new database on the leader: then it does.
    expect(takes('pg-pitr', {into: 'app_before'})).toBe(true)
  })

  it('puts a database runbook lock on each member host of its cluster, named per host', () => {
    expect(planRunbookLock('galera-recover', inventory(galera))).toEqual({
      subject: 'the galera cluster of prod',
      places: [
        {node: 'h1', name: 'runbook-galera-prod.h1'},
        {node: 'h2', name: 'runbook-galera-prod.h2'},
        {node: 'h3', name: 'runbook-galera-prod.h3'},
      ],
    })
    // Backups of the same cluster take the same lock: they exclude a recovery.
    expect(planRunbookLock('mariadb-backup', inventory(galera)).places).toEqual(planRunbookLock('galera-recover', inventory(galera)).places)
  })

  it('puts a patroni runbook lock on the patroni members; other runbooks on the deploy lock node', () => {
    expect(planRunbookLock('pg-backup', inventory(patroni)).places).toEqual([
      {node: 'h2', name: 'runbook-patroni-prod.h2'},
      {node: 'h3', name: 'runbook-patroni-prod.h3'},
    ])
    expect(planRunbookLock('vault-unseal', inventory(galera))).toEqual({
      subject: 'vault-unseal on prod',
      places: [{node: 'm1', name: 'runbook-vault-unseal-prod'}],
    })
  })

  const result = (error?: RunbookRunResult['error']): RunbookRunResult => ({
    runId: 'r',
    runbook: 'galera-recover',
    env: 'prod',
    dryRun: false,
    resumed: false,
    outcome: error ? 'failed' : 'ok',
    journal: '/j',
    durationMs: 1,
    steps: [],
    error,
  })
  const releaseError = new CtlError('Could not release the run lock (/l/x.lock on h1): connection lost', {
    host: 'h1',
    code: 'lock.release-failed',
    hint: 'Once no ctl run holds it, remove it by hand: ssh h1 rm -rf /l/x.lock',
  })

  it('keeps the run error and adds a failed release as a note', () => {
    const failed = withReleaseFailure(
      result({message: 'h2 did not sync', hint: 'look at h2', host: 'h2', step: 'start-others', code: 'galera.sync', exitCode: 1}),
      releaseError,
    )
    expect(failed.error).toEqual({
      message: 'h2 did not sync',
      hint: 'look at h2\nAlso: Could not release the run lock (/l/x.lock on h1): connection lost. Once no ctl run holds it, remove it by hand: ssh h1 rm -rf /l/x.lock',
      host: 'h2',
      step: 'start-others',
      code: 'galera.sync',
      exitCode: 1,
    })
    expect(failed.outcome).toBe('failed')
  })

  it('reports the release failure of a run that went well', () => {
    expect(withReleaseFailure(result(), releaseError).error).toEqual({
      message: releaseError.message,
      hint: releaseError.hint,
      host: 'h1',
      step: undefined,
      code: 'lock.release-failed',
      exitCode: 1,
    })
  })
})
