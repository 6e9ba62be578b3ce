import {Args} from '@oclif/core'
import {renderResultTable} from '../checks/render.js'
import type {CheckResult} from '../checks/types.js'
import {gatherOperatorFacts} from '../doctor/gather.js'
import {judgeOperatorMachine} from '../doctor/judge.js'
import {CtlCommand} from '../lib/command.js'

export interface DoctorResult {
  env?: string
  results: Omit<CheckResult, 'title' | 'durationMs'>[]
  ok: boolean
}

export default class Doctor extends CtlCommand {
  static override summary = "Check the operator's own machine: Node, inventories, SSH key and agent, known_hosts, clock, ctl's state directory."
  static override description =
    'Reads only this machine (no host is contacted): the Node version, every inventory in the inventory directory, and with an env its SSH key (exists, mode 0600, a private key, passphrase and agent), the known_hosts entries of its nodes, the ssh-agent, whether the clock is synchronized, and whether the audit log and runbook journals can be written. Exit 1 when something fails.'
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor prod', '<%= config.bin %> doctor lab --json']
  static override args = {env: Args.string({description: 'Environment name or inventory file: also check its SSH key and known_hosts', required: false})}

  async run(): Promise<DoctorResult> {
    const {args} = await this.parse(Doctor)
    const results = judgeOperatorMachine(await gatherOperatorFacts(args.env))
    const ok = !results.some((r) => r.status === 'fail')
    if (!this.jsonEnabled()) {
      for (const line of renderResultTable(results.map((r) => ({...r, title: r.check, durationMs: 0})))) this.log(line)
      this.log(ok ? 'Nothing wrong on this machine.' : `${results.filter((r) => r.status === 'fail').length} problem(s): see the hints above.`)
    }
    if (!ok) this.markFailed()
    return {...(args.env ? {env: args.env} : {}), results, ok}
  }
}
