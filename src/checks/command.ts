import {Flags} from '@oclif/core'
import {CtlCommand} from '../lib/command.js'
import {ExitCode} from '../lib/errors.js'
import {preflight, type PreflightReport} from './report.js'
import {selectChecks} from './registry.js'
import {renderResultTable} from './render.js'
import {summaryLine} from './verdict.js'

/** Flags shared by `ctl check preflight` and `ctl check run`. */
export const checkFlags = {
  strict: Flags.boolean({description: 'Warnings fail the run too (exit 1).', default: false}),
  timeout: Flags.integer({description: 'Seconds each check may take on one target (default: 30, ssh: connect timeout + 20).', min: 1}),
}

/** Base of the commands that run checks: load the env, run the chosen checks, print, set the exit code. */
export abstract class CheckCommand extends CtlCommand {
  protected async runChecks(env: string, ids: string[], flags: {strict: boolean; timeout?: number}): Promise<PreflightReport> {
    const checks = selectChecks(ids)
    const loaded = this.loadEnv(env)
    this.auditContext = {...this.auditContext, hosts: loaded.inventory.nodes.map((n) => n.name)}
    const report = await preflight(loaded, this.sshPool(loaded), checks, {strict: flags.strict, timeoutMs: flags.timeout && flags.timeout * 1000})
    if (!this.jsonEnabled()) {
      for (const line of renderResultTable(report.results)) this.log(line)
      this.log('')
      this.log(summaryLine(report.summary, report.exitCode))
    }
    this.auditContext = {
      ...this.auditContext,
      outcome: report.exitCode === ExitCode.ok ? 'ok' : report.exitCode === ExitCode.failed ? 'failed' : 'incomplete',
      detail: report.summary,
    }
    if (report.exitCode !== ExitCode.ok) process.exitCode = report.exitCode
    return report
  }
}
