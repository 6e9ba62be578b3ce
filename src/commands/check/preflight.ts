import {envArg} from '../../lib/command.js'
import {CheckCommand, checkFlags} from '../../checks/command.js'
import type {PreflightReport} from '../../checks/report.js'

export default class CheckPreflight extends CheckCommand {
  static override summary = 'Run every preflight check: is the platform fit to deploy to, and exactly what is not.'
  static override description = [
    'Runs all checks (`ctl check list`) in parallel across the hosts, one SSH connection per host, each check under a time budget.',
    'A check that cannot run (host down, tool missing) is reported as ERROR on its own row and never hangs the run.',
    'Exit code: 0 nothing failed; 1 something failed (or warned, with --strict); 2 nothing failed but some checks could not run.',
  ].join('\n')
  static override examples = ['<%= config.bin %> check preflight prod', '<%= config.bin %> check preflight lab --strict --json']
  static override args = {env: envArg}
  static override flags = checkFlags

  async run(): Promise<PreflightReport> {
    const {args, flags} = await this.parse(CheckPreflight)
    return this.runChecks(args.env, [], flags)
  }
}
