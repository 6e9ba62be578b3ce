import {Args} from '@oclif/core'
import {CtlError, ExitCode} from '../../lib/errors.js'
import {envArg} from '../../lib/command.js'
import {CheckCommand, checkFlags} from '../../checks/command.js'
import type {PreflightReport} from '../../checks/report.js'

export default class CheckRun extends CheckCommand {
  static override summary = 'Run only the named checks (ids from `ctl check list`).'
  static override description =
    'Same report, exit codes and flags as `ctl check preflight`, for the checks named after the environment. SSH reachability is always probed first so a down host fails fast; its rows are shown only when `ssh` is named.'
  static override examples = ['<%= config.bin %> check run lab galera patroni', '<%= config.bin %> check run prod disk-free memory --json']
  static override strict = false
  static override args = {
    env: envArg,
    ids: Args.string({description: 'Check ids (one or more)', required: false}),
  }
  static override flags = checkFlags

  async run(): Promise<PreflightReport> {
    const {args, flags, argv} = await this.parse(CheckRun)
    const ids = (argv as string[]).slice(1)
    if (ids.length === 0)
      throw new CtlError('No check named', {
        exitCode: ExitCode.cannotRun,
        hint: `Name one or more checks, e.g. ctl check run ${args.env} ssh disk-free (ctl check list shows them all).`,
      })
    return this.runChecks(args.env, ids, flags)
  }
}
