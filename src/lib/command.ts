import {Args, Command, Errors, Flags} from '@oclif/core'
import {appendAudit, operatorName, type AuditEntry} from './audit.js'
import {CtlError, ExitCode, toCtlError} from './errors.js'
import {outputJson, outputLine} from './light.js'
import {setProgressQuiet} from './progress.js'
import {redact, redactDeep} from './redact.js'
import {loadInventory, type LoadedInventory} from '../inventory/load.js'
import {registerInventorySecrets} from '../inventory/secrets.js'
import {SshPool} from '../ssh/pool.js'
import {appendHistoryCommand, historyLine, isShared} from '../history/shared.js'
import {endEvent, type Notification, type NotifyKind} from '../notify/message.js'
import {Notifier} from '../notify/send.js'
import {hostname} from 'node:os'

/** What a command tells the audit log about itself. */
export interface AuditContext {
  env?: string
  hosts?: string[]
  outcome?: string
  detail?: unknown
}

/**
 * Base of every ctl command: `--json` prints the value `run()` returns; a CtlError becomes its
 * message, hint and exit code; commands that touch hosts are written to the audit log.
 * Everything it prints (log, logToStderr, warn, the JSON result or error) passes through `redact`.
 */
export abstract class CtlCommand extends Command {
  static override enableJsonFlag = true
  /**
   * A light command (src/lib/light.ts) names here its `LightRun`: the module (relative to the command's
   * file) and the export, which its `run()` calls too. bin/run.js may then run it without oclif.
   */
  static light?: {module: string; export: string}

  /** Set by commands that act on an environment; written to the audit log at the end. */
  protected auditContext?: AuditContext
  /**
   * A top-level key of the `--json` result printed as it is, the one deliberate exception to
   * redaction: set only by `vault init --show`, whose keys the operator asked to see.
   */
  protected unredactedJsonKey?: string
  private pools: SshPool[] = []
  /** The environment this run acts on (loadEnv): its shared history gets the run's line. */
  private loaded?: LoadedInventory
  private readonly startedAt = Date.now()
  /** Set by `notifyStart`: the run's end is told to the same webhooks. */
  private notifying?: {notifier: Notifier; loaded: LoadedInventory; kind: NotifyKind; what: string}

  protected override async init(): Promise<void> {
    await super.init()
    setProgressQuiet(this.jsonEnabled())
  }

  /**
   * Loads and validates the inventory, registers the secrets it names for redaction (so remote
   * output echoing one is hidden even when this command never resolves it), and marks the command
   * for the audit log.
   */
  protected loadEnv(envOrPath: string): LoadedInventory {
    const loaded = loadInventory(envOrPath)
    registerInventorySecrets(loaded)
    this.auditContext = {...this.auditContext, env: loaded.env}
    this.loaded = loaded
    return loaded
  }

  /** The SSH pool of this command run; closed when the command ends. */
  protected sshPool(loaded: LoadedInventory): SshPool {
    const pool = new SshPool(loaded)
    this.pools.push(pool)
    return pool
  }

  /**
   * Tells the inventory's webhooks (`notify:`) that this run starts acting on the environment; its
   * end (or refusal, or a deploy's rollback) is told when the command ends. Sent in the background:
   * a webhook that fails or hangs never fails or slows the work, and is reported at the end.
   */
  protected notifyStart(loaded: LoadedInventory, kind: NotifyKind, what: string): void {
    const notifier = new Notifier(loaded)
    if (!notifier.enabled || this.notifying) return
    this.notifying = {notifier, loaded, kind, what}
    notifier.send(this.notification(`${kind}.start`))
  }

  private notification(event: Notification['event'], end?: {outcome: string; error?: string}): Notification {
    const {loaded, what} = this.notifying!
    return {
      event,
      env: loaded.env,
      operator: operatorName(),
      from: hostname(),
      command: [(this.id ?? '').replaceAll(':', ' '), ...this.argv].join(' '),
      what,
      at: new Date().toISOString(),
      ...(end ? {outcome: end.outcome, durationMs: Date.now() - this.startedAt, ...(end.error ? {error: end.error.slice(0, 500)} : {})} : {}),
    }
  }

  /** The end of a notified run, then a bounded wait for the calls under way; failed webhooks are warned about, never fatal. */
  private async notifyEnd(outcome: string, detail: unknown): Promise<void> {
    if (!this.notifying) return
    const {notifier, kind} = this.notifying
    const d = detail as {error?: unknown; reason?: unknown; services?: {reason?: unknown}[]} | undefined
    const error = [d?.error, d?.reason, ...(d?.services?.map((s) => s.reason) ?? [])].find((r): r is string => typeof r === 'string')
    notifier.send(this.notification(endEvent(kind, outcome), {outcome, ...(error ? {error} : {})}))
    this.notifying = undefined
    for (const failure of await notifier.settle()) this.logToStderr(`Warning: notification not delivered: ${failure}`)
  }

  /** Marks the run as failed (exit 1) while still printing its result. */
  protected markFailed(outcome = 'failed'): void {
    process.exitCode = ExitCode.failed
    this.auditContext = {...this.auditContext, outcome}
  }

  override log(message = '', ...args: unknown[]): void {
    super.log(outputLine(message, args))
  }

  override logToStderr(message = '', ...args: unknown[]): void {
    super.logToStderr(outputLine(message, args))
  }

  override warn(input: Error | string): Error | string {
    return super.warn(typeof input === 'string' ? redact(input) : Object.assign(input, {message: redact(input.message)}))
  }

  /** The one path of `--json` output (result and error): redacted, but for `unredactedJsonKey`. */
  protected override logJson(json: unknown): void {
    super.logJson(outputJson(json, this.unredactedJsonKey))
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error
    // oclif's own parse errors (unknown flag, missing argument) are usage errors.
    const isUsage = error?.constructor?.name?.endsWith('Error') && 'parse' in error
    const ctlError = error instanceof CtlError ? error : toCtlError(error, {exitCode: isUsage ? ExitCode.cannotRun : ExitCode.failed})
    if (this.auditContext) this.auditContext.outcome = ctlError.exitCode === ExitCode.cannotRun ? 'refused' : 'failed'
    this.auditContext = this.auditContext && {...this.auditContext, detail: {error: ctlError.message, host: ctlError.host, step: ctlError.step}}
    if (this.jsonEnabled()) {
      this.logJson(ctlError.toJSON())
    } else {
      this.logToStderr(`Error: ${ctlError.describe()}`)
    }
    await this.writeAudit()
    this.auditContext = undefined
    this.exit(ctlError.exitCode)
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    if (!error) await this.writeAudit()
    for (const pool of this.pools) pool.dispose()
    return super.finally(error)
  }

  private async writeAudit(): Promise<void> {
    if (!this.auditContext) return
    const {outcome, ...rest} = this.auditContext
    const entry = {command: [this.id ?? this.constructor.name, ...this.argv].join(' '), outcome: outcome ?? 'ok', ...rest}
    try {
      appendAudit(entry)
    } catch (error) {
      this.logToStderr(`Warning: could not write the audit log: ${(error as Error).message}`)
    }
    if (this.loaded && isShared(this.id ?? '', entry.outcome)) await this.shareHistory(this.loaded, entry)
    await this.notifyEnd(entry.outcome, rest.detail)
  }

  /** The run's line in the environment's shared history; a platform that cannot take it never fails the command. */
  private async shareHistory(loaded: LoadedInventory, entry: AuditEntry & {outcome: string}): Promise<void> {
    const node = loaded.inventory.nodes.find((n) => n.role === 'manager')
    if (!node) return
    const line = historyLine({...entry, time: new Date().toISOString(), operator: operatorName(), env: loaded.env, durationMs: Date.now() - this.startedAt})
    try {
      const pool = this.pools[0] ?? this.sshPool(loaded)
      const r = await pool.run(node, appendHistoryCommand(loaded.inventory.deployLock.dir, loaded.env), {
        stdin: `${JSON.stringify(redactDeep(line))}\n`,
        timeoutMs: 5000,
        step: 'shared history',
      })
      if (r.code !== 0) throw new Error(r.stderr.trim().split('\n').pop() || `exit ${r.code}`)
    } catch (error) {
      this.logToStderr(
        `Warning: this run is not in ${loaded.env}'s shared history on ${node.name} (${toCtlError(error).message}); it is in the local audit log.`,
      )
    }
  }
}

/** Flags shared by commands that change things. */
export const changeFlags = {
  'dry-run': Flags.boolean({description: 'Show the plan and change nothing.', default: false}),
  yes: Flags.boolean({char: 'y', description: 'Answer yes to confirmations (for scripts).', default: false}),
}

/** The environment argument every command that acts on one takes: an env name or an inventory file. */
export const envArg = Args.string({description: 'Environment name or inventory file', required: true})
