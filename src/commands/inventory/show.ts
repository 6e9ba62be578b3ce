import {stringify} from 'yaml'
import {CtlCommand, envArg} from '../../lib/command.js'
import {resolveInventoryRelative} from '../../inventory/load.js'
import type {Inventory} from '../../inventory/schema/index.js'

/** Secret references stay references: `show` never resolves them, so nothing secret is printed. */
export default class InventoryShow extends CtlCommand {
  static override summary = 'Show an inventory with defaults filled in and paths resolved (secrets stay references).'
  static override examples = ['<%= config.bin %> inventory show lab', '<%= config.bin %> inventory show prod --json']
  static override args = {env: envArg}

  async run(): Promise<{file: string; inventory: Inventory}> {
    const {args} = await this.parse(InventoryShow)
    const loaded = this.loadEnv(args.env)
    this.auditContext = undefined // reading a file is not an action on the platform
    const inventory = structuredClone(loaded.inventory)
    if (inventory.ssh.key) inventory.ssh.key = resolveInventoryRelative(loaded, inventory.ssh.key)
    if (inventory.ssh.knownHosts) inventory.ssh.knownHosts = resolveInventoryRelative(loaded, inventory.ssh.knownHosts)
    inventory.stacks = inventory.stacks.map((s) => ({...s, files: s.files.map((f) => resolveInventoryRelative(loaded, f))}))
    if (!this.jsonEnabled()) this.log(`# ${loaded.file}\n${stringify(inventory)}`)
    return {file: loaded.file, inventory}
  }
}
