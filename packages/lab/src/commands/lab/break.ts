import {Args} from '@oclif/core'
import {CtlCommand, changeFlags} from 'ctl/lib/command.js'
import {CtlError, ExitCode} from 'ctl/lib/errors.js'
import {requireConfirmation} from 'ctl/lib/prompt.js'
import {labInstance} from '../../instance.js'
import {requireLabPlatform} from '../../platform.js'
import {breakLab, labBreaks} from '../../runner.js'

export default class LabBreak extends CtlCommand {
  static override summary = 'Break the lab on purpose, to rehearse a recovery (`ctl lab up` repairs it).'
  static override description = 'Scenarios come from the lab components; run without a scenario to list them.'
  static override examples = ['<%= config.bin %> lab break', '<%= config.bin %> lab break node-down h2 --yes', '<%= config.bin %> lab break galera-crash --yes']
  static override args = {
    scenario: Args.string({description: 'Scenario name (omit to list them)'}),
    argument: Args.string({description: 'Its argument, e.g. a host name'}),
  }
  static override flags = {...changeFlags}

  async run(): Promise<
    | {scenarios: Array<{name: string; component: string; summary: string; argument?: string}>}
    | {instance: string; scenario: string; component: string; message: string}
  > {
    const {args, flags} = await this.parse(LabBreak)
    const scenarios = labBreaks().map(({component, scenario}) => ({name: scenario.name, component, summary: scenario.summary, argument: scenario.argument}))
    if (!args.scenario) {
      if (!this.jsonEnabled())
        for (const s of scenarios)
          this.log(`${(s.name + (s.argument ? ' <arg>' : '')).padEnd(28)} ${s.component.padEnd(8)} ${s.summary}${s.argument ? ` (arg: ${s.argument})` : ''}`)
      return {scenarios}
    }
    requireLabPlatform()
    const instance = labInstance()
    this.auditContext = {env: instance.inventoryName, detail: {scenario: args.scenario, argument: args.argument}}
    const known = scenarios.find((s) => s.name === args.scenario)
    if (!known)
      throw new CtlError(`No break scenario named "${args.scenario}"`, {
        exitCode: ExitCode.cannotRun,
        hint: `Scenarios: ${scenarios.map((s) => s.name).join(', ')}`,
      })
    if (flags['dry-run']) {
      if (!this.jsonEnabled()) this.log(`Dry run: would run ${known.name}${args.argument ? ` ${args.argument}` : ''} on ${instance.prefix}: ${known.summary}`)
      this.auditContext.outcome = 'dry-run'
      return {instance: instance.prefix, scenario: known.name, component: known.component, message: 'dry run: nothing changed'}
    }
    await requireConfirmation({message: `Break the lab ${instance.prefix}: ${known.name}${args.argument ? ` ${args.argument}` : ''}?`, yes: flags.yes})
    const result = await breakLab(instance, args.scenario, args.argument)
    if (!this.jsonEnabled()) this.log(result.message)
    return result
  }
}
