import {CtlCommand} from '../../lib/command.js'
import {allChecks} from '../../checks/registry.js'

export interface CheckListing {
  id: string
  title: string
  needs: string
}

export default class CheckList extends CtlCommand {
  static override summary = 'List the preflight checks: id, what each verifies and what it needs.'
  static override examples = ['<%= config.bin %> check list', '<%= config.bin %> check list --json']

  async run(): Promise<{checks: CheckListing[]}> {
    await this.parse(CheckList)
    const checks = allChecks.map((c) => ({id: c.id, title: c.title, needs: c.needs}))
    if (!this.jsonEnabled()) {
      const width = Math.max(...checks.map((c) => c.id.length))
      for (const c of checks) this.log(`${c.id.padEnd(width)}  ${c.title}  [needs: ${c.needs}]`)
    }
    return {checks}
  }
}
