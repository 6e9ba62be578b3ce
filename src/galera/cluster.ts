import {setTimeout as sleep} from 'node:timers/promises'
import {CtlError, ExitCode, toCtlError} from '../lib/errors.js'
import {resolveSecret} from '../inventory/secrets.js'
import {findNode, type LoadedInventory} from '../inventory/load.js'
import type {GaleraCluster, GaleraMember} from '../inventory/schema/databases.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import type {RemoteCommand} from '../lib/shell.js'
import type {RemoteResult, RunOptions} from '../ssh/pool.js'
import {controlCommand, readGrastateCommand, sqlCommand, WSREP_STATUS_SQL, wsrepRecoverCommand, type ControlAction} from './commands.js'
import {parseGrastate, parseRecoveredPosition, recoverFailureCause, parseWsrepStatus, type NodeFacts, type Position, type WsrepStatus} from './facts.js'
import {lastLines} from '../lib/output.js'
import {REPLICA_STATUS_SQL} from './replica.js'

/**
 * Talking to a Galera cluster through the runbook context: every command goes through `run`
 * (journaled, audited). These helpers read facts and wait; decisions live in decide.ts.
 */

export interface MemberRunner {
  run(node: string, command: RemoteCommand, options?: Omit<RunOptions, 'step'>): Promise<RemoteResult>
  progress(text: string): void
}

export function galeraCluster(loaded: LoadedInventory): GaleraCluster {
  const cluster = loaded.inventory.databases.galera
  if (!cluster) {
    throw new CtlError(`${loaded.file} has no databases.galera section`, {
      exitCode: ExitCode.cannotRun,
      code: 'galera.not-configured',
      hint: 'Describe the members, how to start/stop them, and the SQL credentials (see docs/RUNBOOKS.md).',
    })
  }
  return cluster
}

/**
 * The node backups run on: the one asked for, else the inventory's backupNode, else its backup replica
 * (seed 000), else the first member.
 */
export function backupMember(cluster: GaleraCluster, asked?: string): string {
  const node = asked ?? galeraBackupNode(cluster)
  memberOf(cluster, node)
  return node
}

export function galeraBackupNode(cluster: GaleraCluster): string {
  return cluster.backupNode ?? cluster.backupReplica?.node ?? cluster.members[0]!.node
}

/** Is this node the cluster's backup replica (not a Galera member)? */
export function isBackupReplica(cluster: GaleraCluster, node: string): boolean {
  return cluster.backupReplica?.node === node
}

/** A member, or the backup replica (a mariadbd described the same way, outside the cluster). */
export function memberOf(cluster: GaleraCluster, node: string): GaleraMember {
  const member = cluster.members.find((m) => m.node === node) ?? (isBackupReplica(cluster, node) ? cluster.backupReplica : undefined)
  if (!member)
    throw new CtlError(`${node} is not a Galera member`, {
      exitCode: ExitCode.cannotRun,
      hint: `Members: ${cluster.members.map((m) => m.node).join(', ')}${cluster.backupReplica ? `; backup replica: ${cluster.backupReplica.node}` : ''}`,
    })
  return member
}

/** The commands for one cluster's members, as the inventory describes them (pure: used by plans). */
export class GaleraCommands {
  readonly cluster: GaleraCluster

  constructor(readonly loaded: LoadedInventory) {
    this.cluster = galeraCluster(loaded)
  }

  member(node: string): GaleraMember {
    return memberOf(this.cluster, node)
  }

  node(node: string): InventoryNode {
    return findNode(this.loaded, node)
  }

  /** The password (when the inventory has one) travels on stdin, never in this command. */
  sqlCommand(node: string, sql: string, options: {columnNames?: boolean} = {}): RemoteCommand {
    return sqlCommand(this.member(node), this.node(node), this.cluster.user, sql, this.cluster.password !== undefined, options)
  }

  controlCommand(node: string, action: ControlAction, extra: readonly string[] = []): string[] {
    return controlCommand(this.member(node), this.node(node), action, extra)
  }
}

/** Runs commands on one cluster's members: resolves the SQL password once (registered for redaction). */
export class GaleraAccess extends GaleraCommands {
  private readonly password?: string

  constructor(
    loaded: LoadedInventory,
    readonly runner: MemberRunner,
  ) {
    super(loaded)
    this.password = this.cluster.password ? resolveSecret(loaded, this.cluster.password) : undefined
  }

  /** What commands built with a password read on stdin (first line). */
  stdinSecret(): string | undefined {
    return this.password === undefined ? undefined : `${this.password}\n`
  }

  async sql(node: string, sql: string, options: {check?: boolean; timeoutMs?: number; columnNames?: boolean} = {}): Promise<RemoteResult> {
    return this.runner.run(node, this.sqlCommand(node, sql, {columnNames: options.columnNames}), {
      stdin: this.stdinSecret(),
      check: options.check,
      timeoutMs: options.timeoutMs ?? 30_000,
    })
  }

  /** The backup replica's replication status (the check and mariadb-backup judge it). */
  async replicaStatus(node: string, timeoutMs = 30_000): Promise<RemoteResult> {
    return this.sql(node, REPLICA_STATUS_SQL, {timeoutMs, columnNames: true})
  }

  async control(node: string, action: ControlAction, extra: readonly string[] = [], timeoutMs = 120_000): Promise<RemoteResult> {
    return this.runner.run(node, this.controlCommand(node, action, extra), {timeoutMs})
  }

  /** Starts mariadbd with the inventory's start command (plus `extra` arguments); fails with its output. */
  async start(node: string, extra: readonly string[] = []): Promise<void> {
    const r = await this.control(node, 'start', extra)
    if (r.code !== 0)
      throw new CtlError(`The start command failed on ${node} (exit ${r.code})`, {host: node, code: 'galera.start-failed', hint: lastLines(r, 3)})
  }

  /**
   * Stops mariadbd; when it ignores SIGTERM, kills it, but only outside a Primary component (a
   * member stuck in non-Primary cannot have committed anything, so nothing committed is lost).
   */
  async stopSafely(node: string): Promise<'not-running' | 'stopped' | 'killed'> {
    if (!(await this.isRunning(node))) return 'not-running'
    await this.control(node, 'stop', [], 300_000)
    // The stop command waits itself (the lab script, systemctl, docker stop): a short grace is enough.
    if (await this.waitStopped(node, 2)) return 'stopped'
    const live = await this.facts(node)
    if (live.running && live.status?.clusterStatus === 'Primary') {
      throw new CtlError(`mariadbd on ${node} did not stop and is Primary: not killing it`, {
        host: node,
        code: 'galera.stop-failed',
        hint: 'Stop it by hand (it may be busy), then continue with --resume.',
      })
    }
    this.runner.progress(`${node}: still running after SIGTERM outside a Primary component: killing it`)
    await this.control(node, 'kill', [], 30_000)
    if (!(await this.waitStopped(node, 30)))
      throw new CtlError(`mariadbd on ${node} survived the kill command`, {
        host: node,
        code: 'galera.stop-failed',
        hint: 'Stop it by hand, then continue with --resume.',
      })
    return 'killed'
  }

  /** Whether mariadbd runs: the inventory's status command (exit 0 = running). */
  async isRunning(node: string): Promise<boolean> {
    return (await this.control(node, 'status', [], 30_000)).code === 0
  }

  async status(node: string): Promise<{status?: WsrepStatus; error?: string}> {
    const r = await this.sql(node, WSREP_STATUS_SQL)
    if (r.code !== 0) return {error: (r.stderr || r.stdout).trim().split('\n').at(-1) || `exit ${r.code}`}
    const status = parseWsrepStatus(r.stdout)
    return status ? {status} : {error: 'no wsrep status variables (is wsrep on?)'}
  }

  /** Reads running state, wsrep status and grastate.dat of one member; never throws for a node that does not answer. */
  async facts(node: string, previous?: NodeFacts): Promise<NodeFacts> {
    try {
      const running = await this.isRunning(node)
      const grastateOut = await this.runner.run(node, readGrastateCommand(this.member(node), this.node(node)), {timeoutMs: 30_000})
      const grastate = parseGrastate(grastateOut.stdout)
      const facts: NodeFacts = {node, reachable: true, running, grastate}
      if (running) {
        const {status, error} = await this.status(node)
        facts.status = status
        facts.sqlError = error
      } else if (previous?.recovered && !previous.running && grastate?.seqno === -1) {
        // Still stopped since its position was recovered: the data has not moved.
        facts.recovered = previous.recovered
      }
      return facts
    } catch (error) {
      const e = toCtlError(error)
      if (e.code === 'ssh.connect' || e.code === 'ssh.timeout' || e.code?.startsWith('ssh.host-key'))
        return {node, reachable: false, running: false, error: e.message.split('\n')[0]}
      throw e
    }
  }

  async allFacts(previous: readonly NodeFacts[] = []): Promise<NodeFacts[]> {
    return Promise.all(
      this.cluster.members.map((m) =>
        this.facts(
          m.node,
          previous.find((p) => p.node === m.node),
        ),
      ),
    )
  }

  /** `mariadbd --wsrep-recover` on a stopped member: its last committed position from InnoDB. */
  async recoverPosition(node: string): Promise<Position> {
    const r = await this.runner.run(node, wsrepRecoverCommand(this.member(node)), {timeoutMs: 300_000})
    const output = `${r.stderr}\n${r.stdout}`
    const position = parseRecoveredPosition(output)
    if (r.code !== 0 || !position) {
      const why = recoverFailureCause(output)
      throw new CtlError(`mariadbd --wsrep-recover did not report a position on ${node} (exit ${r.code})${why ? `: ${why.cause}` : ''}`, {
        host: node,
        code: 'galera.recover-failed',
        hint: why?.damaged
          ? `${node}'s InnoDB data cannot be recovered in place: keep its datadir for analysis (move it aside) and bring the member back by a full state transfer (SST) from the others once they run.`
          : `Run it by hand on ${node} and read its output; is mariadbd still running, or the datadir damaged?`,
      })
    }
    return position
  }

  /**
   * Waits until the member is Synced in a Primary component (and, when given, of at least `size`
   * members). Fails early when mariadbd stops (a refused bootstrap, a failed SST).
   */
  async waitForSynced(node: string, options: {size?: number; timeoutSeconds?: number} = {}): Promise<WsrepStatus> {
    const deadline = Date.now() + (options.timeoutSeconds ?? this.cluster.syncTimeoutSeconds) * 1000
    let last: string
    let stoppedChecks = 0
    let reported = ''
    for (;;) {
      const {status, error} = await this.status(node)
      if (status) {
        last = `${status.clusterStatus}, ${status.localState}, size ${status.clusterSize}`
        if (status.clusterStatus === 'Primary' && status.localState === 'Synced' && status.clusterSize >= (options.size ?? 1)) return status
      } else {
        last = `mariadbd not answering SQL yet (starting, or receiving a state transfer): ${error ?? ''}`
        // The socket may not exist yet while a joiner receives its state; only a stopped process is final.
        if (!(await this.isRunning(node))) stoppedChecks++
        if (stoppedChecks >= 3) {
          throw new CtlError(`mariadbd on ${node} stopped before reaching Synced (${last})`, {
            host: node,
            code: 'galera.start-failed',
            hint: `Read its error log on ${node} (the datadir's *.err or the log the start command names).`,
          })
        }
      }
      if (last !== reported) this.runner.progress(`${node}: ${last}`)
      reported = last
      if (Date.now() > deadline) {
        throw new CtlError(`${node} did not reach Synced in time (last: ${last})`, {
          host: node,
          code: 'galera.sync-timeout',
          hint: 'A joiner needing a full state transfer takes longer: look at its error log; raise databases.galera.syncTimeoutSeconds if it is still progressing.',
        })
      }
      await sleep(1000)
    }
  }

  /** Waits for mariadbd to be gone (after stop or kill). */
  async waitStopped(node: string, timeoutSeconds: number): Promise<boolean> {
    const deadline = Date.now() + timeoutSeconds * 1000
    for (;;) {
      if (!(await this.isRunning(node))) return true
      if (Date.now() > deadline) return false
      await sleep(500)
    }
  }
}
