import {readFileSync, existsSync} from 'node:fs'

import {CtlCommand, envArg} from '../../lib/command.js'
import {CtlError, ExitCode} from '../../lib/errors.js'
import {envNameOfFile, formatProblems, parseInventory, resolveInventoryPath, type InventoryProblem} from '../../inventory/load.js'

export interface ValidateResult {
  file: string
  valid: boolean
  nodes?: number
  problems: InventoryProblem[]
  /** Valid but risky settings (exit code stays 0). */
  warnings: InventoryProblem[]
}

export default class InventoryValidate extends CtlCommand {
  static override summary = 'Validate an inventory without touching any host.'
  static override description =
    'An env name resolves to inventories/<env>.yml; anything with a slash or a .yml ending is a path. Problems are reported as file:line:column: field: message; exit code 1 when invalid. Every object is strict: an unknown key is a problem (with the nearest known name). Warnings (e.g. Vault over plain http off loopback and the lab) are printed as file:line:column: warning: ... and keep exit code 0.'
  static override examples = ['<%= config.bin %> inventory validate prod', '<%= config.bin %> inventory validate inventories/examples/swarm-galera.yml']
  static override args = {env: envArg}

  async run(): Promise<ValidateResult> {
    const {args} = await this.parse(InventoryValidate)
    const file = resolveInventoryPath(args.env)
    if (!existsSync(file)) throw new CtlError(`No inventory at ${file}`, {exitCode: ExitCode.cannotRun, hint: 'Pass an env name from inventories/ or a path.'})
    envNameOfFile(file)
    const {inventory, problems, warnings} = parseInventory(readFileSync(file, 'utf8'), file)
    if (!inventory) {
      this.logToStderr(formatProblems(problems))
      process.exitCode = ExitCode.failed
      return {file, valid: false, problems, warnings}
    }
    if (warnings.length > 0) this.logToStderr(formatProblems(warnings, 'warning: '))
    this.log(
      `${file}: valid (${inventory.nodes.length} nodes, ${inventory.stacks.length} stacks, ${inventory.services.length} services${warnings.length > 0 ? `, ${warnings.length} warning(s)` : ''})`,
    )
    return {file, valid: true, nodes: inventory.nodes.length, problems: [], warnings}
  }
}
