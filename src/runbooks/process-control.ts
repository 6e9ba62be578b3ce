import {dockerCli} from '../docker/engine.js'
import type {ProcessControl} from '../inventory/schema/common.js'
import type {InventoryNode} from '../inventory/schema/index.js'

/** The argv that starts a member's process as the inventory says (`control`): a Patroni member, a redis-server. */
export function startMemberCommand(control: ProcessControl, node: InventoryNode): string[] {
  switch (control.kind) {
    case 'commands':
      return [...control.start]
    case 'systemd':
      return ['systemctl', 'start', control.unit]
    case 'docker':
      return dockerCli(node, ['start', control.container])
  }
}

/** The argv that stops it (a clean stop; `kill` is the inventory's, for one that ignores it). */
export function stopMemberCommand(control: ProcessControl, node: InventoryNode): string[] {
  switch (control.kind) {
    case 'commands':
      return [...control.stop]
    case 'systemd':
      return ['systemctl', 'stop', control.unit]
    case 'docker':
      return dockerCli(node, ['stop', control.container])
  }
}
