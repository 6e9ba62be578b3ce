import {CtlCommand} from '../../lib/command.js'
import {runbooks} from '../../runbooks/index.js'
import {table} from '../../runbooks/render.js'

export interface RunbookListEntry {
  name: string
  summary: string
  needs: string
  steps: number
  dataRiskSteps: number
}

export default class RunbookList extends CtlCommand {
  static override summary = 'List the runbooks ctl can run.'
  static override description = 'Each runbook runs as `ctl runbook <name> <env>`; `ctl runbook show <name>` lists its steps.'
  static override examples = ['<%= config.bin %> runbook list', '<%= config.bin %> runbook list --json']

  async run(): Promise<{runbooks: RunbookListEntry[]}> {
    await this.parse(RunbookList)
    const entries = runbooks.map((r) => ({
      name: r.name,
      summary: r.summary,
      needs: r.needs,
      steps: r.steps.length,
      dataRiskSteps: r.steps.filter((s) => s.risk === 'data-risk').length,
    }))
    if (!this.jsonEnabled()) {
      for (const line of table(
        ['RUNBOOK', 'STEPS', 'SUMMARY'],
        entries.map((e) => [e.name, String(e.steps), e.summary]),
      ))
        this.log(line)
    }
    return {runbooks: entries}
  }
}
