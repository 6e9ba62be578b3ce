import {CtlError, ExitCode} from '../lib/errors.js'
import type {RemoteCommand} from '../lib/shell.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import type {RemoteResult, RemoteRunner, RunOptions} from '../ssh/pool.js'
import {Semaphore} from '../lib/limit.js'

/**
 * The runner checks use: the shared SSH pool behind two limits (commands in flight overall, and
 * sessions per host: 6, leaving sshd's MaxSessions of 10 room for the status's few ungated reads
 * of locks and history), and a gate that refuses hosts the `ssh`
 * check found unreachable at once instead of waiting for another connect timeout per check.
 */
export class GatedRunner implements RemoteRunner {
  private readonly unreachable = new Map<string, string>()
  private readonly perHost = new Map<string, Semaphore>()
  private readonly overall: Semaphore
  private closed = false

  constructor(
    private readonly inner: RemoteRunner,
    options: {concurrency: number; sessionsPerHost?: number},
    private readonly sessionsPerHost = options.sessionsPerHost ?? 6,
  ) {
    this.overall = new Semaphore(options.concurrency)
  }

  markUnreachable(node: string, reason: string): void {
    this.unreachable.set(node, reason)
  }

  /**
   * Refuses every command from now on, including those still queued: a check that timed out may
   * still be waiting for a session, and must not open a new connection after the pool is disposed
   * (that connection would keep the process alive).
   */
  close(): void {
    this.closed = true
  }

  isReachable(node: InventoryNode): boolean {
    return !this.unreachable.has(node.name)
  }

  run(node: InventoryNode, command: RemoteCommand, options?: RunOptions): Promise<RemoteResult> {
    if (this.closed) return Promise.reject(this.closedError(node))
    const reason = this.unreachable.get(node.name)
    if (reason !== undefined) {
      return Promise.reject(
        new CtlError(`not run: ${node.name} is unreachable over SSH (${reason})`, {
          host: node.name,
          exitCode: ExitCode.cannotRun,
          code: 'check.host-unreachable',
          hint: 'See the ssh check for this host.',
        }),
      )
    }
    let hostGate = this.perHost.get(node.name)
    if (!hostGate) this.perHost.set(node.name, (hostGate = new Semaphore(this.sessionsPerHost)))
    const gate = hostGate
    // Per host first: a command waiting for its host's session holds no overall permit.
    return gate.use(() => this.overall.use(() => (this.closed ? Promise.reject(this.closedError(node)) : this.inner.run(node, command, options))))
  }

  private closedError(node: InventoryNode): CtlError {
    return new CtlError(`not run on ${node.name}: the check had already timed out`, {host: node.name, exitCode: ExitCode.cannotRun, code: 'check.closed'})
  }
}
