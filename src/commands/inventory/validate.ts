import {CtlCommand, envArg} from '../../lib/command.js'
import {validateInventory, type ValidateResult} from '../../inventory/validate.js'

export default class InventoryValidate extends CtlCommand {
  static override summary = 'Validate an inventory without touching any host.'
  static override description =
    'An env name resolves to inventories/<env>.yml; anything with a slash or a .yml ending is a path. Problems are reported as file:line:column: field: message; exit code 1 when invalid. Every object is strict: an unknown key is a problem (with the nearest known name). Warnings (e.g. Vault over plain http off loopback and the lab) are printed as file:line:column: warning: ... and keep exit code 0.'
  static override examples = ['<%= config.bin %> inventory validate prod', '<%= config.bin %> inventory validate inventories/examples/swarm-galera.yml']
  static override args = {env: envArg}
  static override light = {module: '../../inventory/validate.js', export: 'validateInventory'}

  async run(): Promise<ValidateResult> {
    return validateInventory(await this.parse(InventoryValidate), this)
  }
}
