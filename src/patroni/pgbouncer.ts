import type {LoadedInventory} from '../inventory/load.js'
import {resolveSecret} from '../inventory/secrets.js'
import type {Finding} from '../checks/types.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {queryJson, runSql, type PgTarget} from './sql.js'
import type {RunOn} from './topology.js'

/**
 * PgBouncer in front of the Patroni leader (seed 001), forwarding to the write endpoint. ctl talks to
 * its admin console (the `pgbouncer` database) with psql on its node, the password on stdin: PAUSE
 * (waits until every open transaction has ended, then holds new queries: clients wait instead of
 * failing) and RESUME. PgBouncer 1.18 cannot say whether it is paused: a probe through it that does
 * not answer in time is how a pooler left paused shows.
 */

export interface PgbouncerSettings {
  node: string
  host: string
  port: number
  /** The admin console. */
  admin: PgTarget
  adminPassword?: string
  /** What clients use: the cluster's user and database. */
  client: PgTarget
  clientPassword?: string
  pauseTimeoutMs: number
}

export function pgbouncerSettings(loaded: Pick<LoadedInventory, 'inventory' | 'file'>): PgbouncerSettings | undefined {
  const section = loaded.inventory.databases.patroni
  const b = section?.pgbouncer
  if (!section || !b) return undefined
  const host = b.host ?? loaded.inventory.nodes.find((n) => n.name === b.node)!.address
  const clientPassword = section.password ? resolveSecret(loaded, section.password) : undefined
  const adminRef = b.adminPassword ?? section.password
  return {
    node: b.node,
    host,
    port: b.port,
    admin: {node: b.node, host, port: b.port, user: b.adminUser ?? section.user, database: 'pgbouncer'},
    ...(adminRef ? {adminPassword: resolveSecret(loaded, adminRef)} : {}),
    client: {node: b.node, host, port: b.port, user: section.user, database: section.database},
    ...(clientPassword ? {clientPassword} : {}),
    pauseTimeoutMs: b.pauseTimeoutSeconds * 1000,
  }
}

/** PAUSE: returns once every server connection is released; on timeout PgBouncer is resumed and the run refused. */
export async function pausePgbouncer(runOn: RunOn, s: PgbouncerSettings, step: string): Promise<void> {
  try {
    await runSql(runOn, s.admin, s.adminPassword, 'PAUSE;', {step, timeoutMs: s.pauseTimeoutMs})
  } catch (error) {
    await resumePgbouncer(runOn, s, step).catch(() => undefined)
    throw new CtlError(`PgBouncer on ${s.node} could not pause within ${s.pauseTimeoutMs / 1000} s: ${(error as Error).message.split('\n')[0]}`, {
      host: s.node,
      step,
      exitCode: ExitCode.cannotRun,
      code: 'pgbouncer.pause-failed',
      hint: 'A client holds a transaction open (or the admin user is not in admin_users). Nothing was switched; PgBouncer was resumed.',
    })
  }
}

/** RESUME; one that is not paused (a resumed run, a PAUSE that failed) is fine. */
export async function resumePgbouncer(runOn: RunOn, s: PgbouncerSettings, step: string): Promise<void> {
  try {
    await runSql(runOn, s.admin, s.adminPassword, 'RESUME;', {step, timeoutMs: 30_000})
  } catch (error) {
    if (/not paused/.test((error as Error).message)) return
    throw new CtlError(`PgBouncer on ${s.node} could not be resumed: ${(error as Error).message.split('\n')[0]}`, {
      host: s.node,
      step,
      code: 'pgbouncer.resume-failed',
      hint: `Clients wait until it is: psql -h ${s.host} -p ${s.port} -U ${s.admin.user} pgbouncer -c RESUME`,
    })
  }
}

export interface PgbouncerProbe {
  recovery: boolean
  server: string | null
}

const PROBE_SQL = `select json_build_object('recovery', pg_is_in_recovery(), 'server', host(inet_server_addr()))`

/** Where a query through PgBouncer lands (its node's psql, 10 s at most); the error when it does not answer. */
export async function probeThroughPgbouncer(runOn: RunOn, s: PgbouncerSettings, step: string): Promise<PgbouncerProbe | {error: string}> {
  try {
    return await queryJson<PgbouncerProbe>(runOn, s.client, s.clientPassword, PROBE_SQL, {step, timeoutMs: 10_000})
  } catch (error) {
    return {error: (error as Error).message.split('\n')[0]!}
  }
}

/** The check's row: a query through PgBouncer reaches the current leader, a writable server. */
export function judgePgbouncer(
  env: string,
  s: Pick<PgbouncerSettings, 'host' | 'port' | 'admin'>,
  leader: {name: string; address: string},
  probe: PgbouncerProbe | {error: string},
): Finding {
  const where = `${s.host}:${s.port}`
  if ('error' in probe)
    return {
      target: 'pgbouncer',
      status: 'fail',
      detail: `a query through PgBouncer ${where} got no answer: ${probe.error}`,
      hint: `If it was left paused (a switchover cut short): psql -h ${s.host} -p ${s.port} -U ${s.admin.user} pgbouncer -c RESUME; else is it running?`,
    }
  if (probe.recovery || probe.server !== leader.address)
    return {
      target: 'pgbouncer',
      status: 'fail',
      detail: `PgBouncer ${where} reaches ${probe.server ?? 'a local socket'}${probe.recovery ? ' (a replica)' : ''}, not the leader ${leader.name} (${leader.address})`,
      hint: `Its backend (the write endpoint) must follow the leader: ctl check run ${env} patroni, and the endpoint's health check.`,
    }
  return {target: 'pgbouncer', status: 'pass', detail: `${where} reaches the leader ${leader.name} (${leader.address})`}
}
