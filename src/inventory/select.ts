import {CtlError, ExitCode} from '../lib/errors.js'
import type {Inventory, InventoryNode} from './schema/index.js'

export interface NodeSelector {
  node?: string[]
  label?: string[]
  role?: 'manager' | 'worker'
}

/** Picks the nodes matching every given filter (`--node`, `--label k=v`, `--role`); none given → all. */
export function selectNodes(inventory: Inventory, selector: NodeSelector): InventoryNode[] {
  const unknown = (selector.node ?? []).filter((name) => !inventory.nodes.some((n) => n.name === name))
  if (unknown.length > 0) {
    throw new CtlError(`Unknown node(s): ${unknown.join(', ')}`, {
      exitCode: ExitCode.cannotRun,
      hint: `Known nodes: ${inventory.nodes.map((n) => n.name).join(', ')}`,
    })
  }
  const labels = (selector.label ?? []).map((text) => {
    const eq = text.indexOf('=')
    if (eq <= 0) throw new CtlError(`--label takes key=value, got "${text}"`, {exitCode: ExitCode.cannotRun})
    return [text.slice(0, eq), text.slice(eq + 1)] as const
  })
  const selected = inventory.nodes.filter(
    (n) =>
      (!selector.node?.length || selector.node.includes(n.name)) && labels.every(([k, v]) => n.labels[k] === v) && (!selector.role || n.role === selector.role),
  )
  if (selected.length === 0) throw new CtlError('No node matches the selection', {exitCode: ExitCode.cannotRun})
  return selected
}
