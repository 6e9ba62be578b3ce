import {Flags} from '@oclif/core'
import {historyPath, parseHistory, parseSince, readHistoryCommand, type HistoryLine} from '../history/shared.js'
import {lockNode} from '../deploy/lock.js'
import {CtlCommand, envArg} from '../lib/command.js'
import {CtlError, ExitCode} from '../lib/errors.js'

export interface HistoryResult {
  env: string
  /** Where the shared history lives: `node:path`. */
  source: string
  entries: HistoryLine[]
}

export default class History extends CtlCommand {
  static override summary = 'What every operator did on an environment: deploys, rollbacks, reloads, runbooks, Vault and backup actions, newest first.'
  static override description =
    "Reads the environment's shared history on the platform (history-<env>.jsonl beside the deploy lock, on the first manager), where every ctl run that acts on the environment appends one line at its end (not dry runs, refusals or runs that changed nothing): when, who (CTL_OPERATOR, else the login name), the command, its outcome and duration, the hosts, the error. Secrets are redacted before a line leaves the operator's machine. Each operator's local audit log stays as it is."
  static override examples = [
    '<%= config.bin %> history prod',
    '<%= config.bin %> history prod --since 2h --operator alice',
    '<%= config.bin %> history lab --limit 20 --json',
  ]
  static override args = {env: envArg}
  static override flags = {
    since: Flags.string({description: 'Only runs since then: 30m, 2h, 7d, or a date'}),
    operator: Flags.string({description: 'Only this operator’s runs'}),
    limit: Flags.integer({description: 'Read at most this many of the newest lines', default: 1000, min: 1}),
  }

  async run(): Promise<HistoryResult> {
    const {args, flags} = await this.parse(History)
    const since = flags.since === undefined ? undefined : parseSince(flags.since)
    if (flags.since !== undefined && !since)
      throw new CtlError(`--since ${flags.since} is neither a duration (30m, 2h, 7d) nor a date`, {
        exitCode: ExitCode.cannotRun,
        code: 'history.since',
        hint: 'e.g. --since 2h, or --since "2026-12-01 10:00"',
      })
    const loaded = this.loadEnv(args.env)
    const node = lockNode(loaded)
    const r = await this.sshPool(loaded).run(node, readHistoryCommand(loaded.inventory.deployLock.dir, loaded.env, flags.limit), {
      check: true,
      step: 'read the shared history',
      timeoutMs: 30_000,
    })
    const entries = parseHistory(r.stdout, {...(since ? {since} : {}), ...(flags.operator ? {operator: flags.operator} : {})})
    const source = `${node.name}:${historyPath(loaded.inventory.deployLock.dir, loaded.env)}`
    this.auditContext = undefined
    if (!this.jsonEnabled()) {
      if (entries.length === 0) this.log(`No runs in ${source}${since || flags.operator ? ' that match' : ''}.`)
      for (const e of entries)
        this.log(
          [
            e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
            e.operator.padEnd(10),
            e.outcome.padEnd(11),
            e.durationMs === undefined ? '      -' : `${(e.durationMs / 1000).toFixed(1).padStart(6)}s`,
            // The command id as typed (runbook galera-recover), not oclif's (runbook:galera-recover).
            `ctl ${e.command.replace(/^\S+/, (id) => id.replaceAll(':', ' '))}`,
          ].join('  ') + (e.error ? `\n${' '.repeat(22)}${e.error}` : ''),
        )
    }
    return {env: loaded.env, source, entries}
  }
}
