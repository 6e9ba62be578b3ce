import {Args} from '@oclif/core'
import {CtlCommand} from '../../lib/command.js'
import {findRunbook} from '../../runbooks/index.js'
import {describeRunbook} from '../../runbooks/render.js'
import type {StepRisk} from '../../runbooks/types.js'

export interface RunbookDescription {
  name: string
  summary: string
  description: string
  needs: string
  steps: {id: string; title: string; risk: StepRisk; description: string}[]
}

export default class RunbookShow extends CtlCommand {
  static override summary = 'Show the steps of a runbook, with the ones that ask before they risk data.'
  static override description =
    'Steps marked DATA RISK ask before they run (--yes confirms in scripts; with no terminal and no --yes the run stops before them). For the exact commands against an environment, run the runbook with --dry-run.'
  static override examples = ['<%= config.bin %> runbook show galera-recover', '<%= config.bin %> runbook show rabbitmq-recover --json']
  static override args = {name: Args.string({description: 'Runbook name (see ctl runbook list)', required: true})}

  async run(): Promise<RunbookDescription> {
    const {args} = await this.parse(RunbookShow)
    const runbook = findRunbook(args.name)
    if (!this.jsonEnabled()) for (const line of describeRunbook(runbook)) this.log(line)
    return {
      name: runbook.name,
      summary: runbook.summary,
      description: runbook.description,
      needs: runbook.needs,
      steps: runbook.steps.map((s) => ({id: s.id, title: s.title, risk: s.risk, description: s.description})),
    }
  }
}
