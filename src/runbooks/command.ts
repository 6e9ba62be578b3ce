import {Flags} from '@oclif/core'
import {changeFlags, CtlCommand, envArg} from '../lib/command.js'
import {ExitCode} from '../lib/errors.js'
import {redact} from '../lib/redact.js'
import {runRunbook} from './engine.js'
import {parseRunId} from './journal.js'
import {acquireRunbookLock} from './lock.js'
import {runSummary, textObserver} from './render.js'
import type {Runbook, RunbookRunResult} from './types.js'

/** A runbook command's help: the runbook's own description, then where its steps and journal are told. */
export function runbookDescription(runbook: Pick<Runbook<unknown, unknown>, 'name' | 'description'>, more = 'Journal and --resume: docs/RUNBOOKS.md.'): string {
  return `${runbook.description}\n\nSteps: ctl runbook show ${runbook.name}. ${more}`
}

/** Help examples of `ctl runbook <name>`, each given as what follows the name (env and flags). */
export function runbookExamples(name: string, ...invocations: string[]): string[] {
  return invocations.map((rest) => `<%= config.bin %> runbook ${name} ${rest}`)
}

/** The argument and flags every `ctl runbook <name> <env>` command has. */
export const runbookArgs = {env: envArg}

export const runbookFlags = {
  ...changeFlags,
  resume: Flags.boolean({
    description: 'Continue the latest stopped run of this runbook on this env, from the step that did not finish, after re-checking the facts.',
    default: false,
  }),
  'run-id': Flags.string({
    description: 'With --resume: the run to continue (default: the latest).',
    dependsOn: ['resume'],
    parse: async (id) => parseRunId(id),
  }),
}

/**
 * Base of the runbook commands: each one is a thin file that parses its own flags, then calls
 * `execute(runbook, env, flags, options)`. Prints the steps as they run (or the JSON result).
 */
export abstract class RunbookCommand extends CtlCommand {
  protected async execute<S, O>(
    runbook: Runbook<S, O>,
    env: string,
    flags: {'dry-run': boolean; yes: boolean; resume: boolean; 'run-id'?: string},
    options: O,
  ): Promise<RunbookRunResult> {
    const loaded = this.loadEnv(env)
    const pool = this.sshPool(loaded)
    const print = (line: string) => this.log(line)
    if (!flags['dry-run']) this.notifyStart(loaded, 'runbook', runbook.name)
    const result = await runRunbook(runbook, {
      loaded,
      remote: pool,
      options,
      dryRun: flags['dry-run'],
      yes: flags.yes,
      resume: flags.resume,
      runId: flags['run-id'],
      observer: this.jsonEnabled() ? undefined : textObserver(print),
      ...(runbook.takesClusterLock?.(options) === false ? {} : {lock: (runId: string) => acquireRunbookLock(pool, loaded, runbook.name, runId)}),
    })
    const hosts = [...new Set(result.steps.flatMap((s) => s.plan.commands.map((c) => c.node)))]
    this.auditContext = {
      ...this.auditContext,
      hosts,
      outcome: result.outcome,
      detail: {runId: result.runId, journal: result.journal, error: result.error?.message},
    }
    if (!this.jsonEnabled()) {
      for (const line of runSummary(result)) this.log(line)
      if (result.error) {
        const where = [result.error.host && `host ${result.error.host}`, result.error.step && `step ${result.error.step}`].filter(Boolean).join(', ')
        this.logToStderr(redact(`Error: ${result.error.message}${where ? ` (${where})` : ''}${result.error.hint ? `\nHint: ${result.error.hint}` : ''}`))
      }
    }
    if (result.error) process.exitCode = result.error.exitCode === ExitCode.cannotRun ? ExitCode.cannotRun : ExitCode.failed
    return result
  }
}
