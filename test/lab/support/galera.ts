import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {parse, stringify} from 'yaml'
import {expect} from 'vitest'
import {runLocal} from '../../../src/lib/local.js'
import {labHost} from '../../../packages/lab/src/types.js'
import {galeraPaths} from '../../../packages/lab/src/components/galera-files.js'
import {labControl, labWsrepStatus} from '../../../packages/lab/src/components/galera.js'
import type {WsrepStatus} from '../../../src/galera/facts.js'
import {json, projectRoot, runCtl, type CliRun} from '../../support/cli.js'

/**
 * Helpers of the Galera lab tests. The oracle is independent of ctl: SQL as root over each member's
 * socket from this machine, and the member's control script run inside its namespace.
 */

export const members = ['h1', 'h2', 'h3'] as const
export type Member = (typeof members)[number]
export const host = (name: Member) => labHost(Number(name.slice(1)))

export async function sql(name: Member, statement: string): Promise<string> {
  return sqlAt(galeraPaths(host(name)).socket, statement)
}

/** SQL as root over any lab mariadbd's socket (a member's, the backup replica's). */
export async function sqlAt(socket: string, statement: string): Promise<string> {
  const r = await runLocal(['mariadb', `--socket=${socket}`, '--user=root', '--batch', '--skip-column-names'], {input: statement, timeoutMs: 30_000})
  return r.stdout.trim()
}

export const status = (name: Member): Promise<WsrepStatus | undefined> => labWsrepStatus(host(name))
export const control = (name: Member, action: 'start' | 'stop' | 'kill' | 'status') => labControl(host(name), action)
export const grastate = (name: Member) => readFileSync(join(galeraPaths(host(name)).datadir, 'grastate.dat'), 'utf8')

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(500)
  }
}

/** The test table: rows written during a scenario must all be there afterwards, on every member. */
export async function prepareTable(): Promise<void> {
  await sql(
    'h1',
    'CREATE DATABASE IF NOT EXISTS ctl_test; CREATE TABLE IF NOT EXISTS ctl_test.rows (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64) NOT NULL) ENGINE=InnoDB;',
  )
}

export async function writeRows(on: Member, label: string, count: number): Promise<void> {
  const values = Array.from({length: count}, (_, i) => `('${label}-${i}')`).join(',')
  await sql(on, `INSERT INTO ctl_test.rows (v) VALUES ${values};`)
}

/** Count and a checksum of every row: equal on every member and equal to what was written. */
export async function rowsDigest(on: Member): Promise<string> {
  return sql(on, "SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT(id, ':', v))), 0) FROM ctl_test.rows;")
}

export async function clusterUuid(): Promise<string> {
  return (await status('h1'))!.clusterUuid
}

/** Asserts 3 Synced members in one Primary component with the given uuid and the same rows. */
export async function expectHealthy(uuid: string, digest: string): Promise<void> {
  for (const m of members) {
    const s = await status(m)
    expect(s, `${m} status`).toMatchObject({clusterStatus: 'Primary', localState: 'Synced', clusterSize: 3, clusterUuid: uuid})
    expect(await rowsDigest(m), `${m} rows`).toBe(digest)
  }
}

export async function recover(args: string[] = [], env: Record<string, string> = {}): Promise<{run: CliRun; result: any}> {
  const run = await runCtl(['runbook', 'galera-recover', 'lab', '--json', ...args], {env, timeoutMs: 600_000})
  return {run, result: json(run)}
}

/** Leaves the cluster healthy for the next test (the runbook finishes early when it already is). */
export async function ensureHealthy(): Promise<void> {
  const {run, result} = await recover(['--yes'])
  expect(run.exitCode, `${run.stderr}\n${JSON.stringify(result.error)}`).toBe(0)
}

export async function breakLab(scenario: string, ...args: string[]): Promise<void> {
  const run = await runCtl(['lab', 'break', scenario, ...args, '--yes'])
  expect(run.exitCode, run.stderr).toBe(0)
}

/**
 * A copy of inventories/lab.yml (with absolute paths) changed by `edit`: e.g. a member that cannot
 * be reached.
 */
export function inventoryVariant(name: string, edit: (inventory: any) => void): string {
  const source = join(projectRoot, 'inventories', 'lab.yml')
  const inventory = parse(readFileSync(source, 'utf8'))
  const labDir = join(projectRoot, '.lab')
  inventory.ssh.key = join(labDir, 'id_ed25519')
  inventory.ssh.knownHosts = join(labDir, 'known_hosts')
  inventory.databases.galera.password = `file:${join(labDir, 'galera-password')}`
  inventory.name = name
  edit(inventory)
  const file = join(mkdtempSync(join(tmpdir(), 'ctl-galera-inv-')), `${name}.yml`)
  writeFileSync(file, stringify(inventory))
  return file
}
