import {toCtlError} from '../../lib/errors.js'
import {listSwarmNodes} from '../../swarm/cluster.js'
import {loadStacks, verifyPlacement, type PlacementReport} from '../../swarm/placement.js'
import type {SwarmNodeView} from '../../swarm/views.js'
import type {CheckDefinition, Finding} from '../types.js'
import {reachableManager} from './swarm.js'

/** One row per service of the stack: placeable where the inventory intends, host-mode ports only where allowed. */
export function judgePlacement(env: string, stack: string, report: PlacementReport, liveNote?: string): Finding[] {
  const findings: Finding[] = report.findings
    .filter((f) => !f.service)
    .map((f) => ({target: stack, status: f.severity === 'error' ? 'fail' : 'warn', detail: f.message, hint: 'Fix the stack file named in the inventory.'}))
  for (const service of report.services) {
    const problems = report.findings.filter((f) => f.service === service.service)
    const target = `${stack}/${service.service}`
    const errors = problems.filter((p) => p.severity === 'error')
    if (errors.length > 0)
      findings.push({
        target,
        status: 'fail',
        detail: errors.map((p) => p.message).join('; '),
        hint: `Fix the constraints or ports in the stack file, or the node labels (ctl node label ${env}).`,
      })
    else if (problems.length > 0)
      findings.push({target, status: 'warn', detail: problems.map((p) => p.message).join('; '), hint: 'Verify this placement by hand.'})
    else
      findings.push({
        target,
        status: 'pass',
        detail: `placeable on ${service.nodes.join(', ')}${service.hostModePorts.length ? `, host-mode ports ${service.hostModePorts.join(', ')} allowed` : ''}${liveNote ? ` (${liveNote})` : ''}`,
      })
  }
  return findings
}

export const placementCheck: CheckDefinition = {
  id: 'placement',
  title: 'Placement: every service placeable, host-mode ports only where allowed',
  needs: 'the stack files; a manager (Engine API) for the live labels',
  targets: (inventory) => inventory.stacks.map((s) => ({name: s.name})),
  skipReason: 'no stacks in the inventory',
  async run(ctx, target) {
    let swarmNodes: SwarmNodeView[] | undefined
    let liveNote: string | undefined
    try {
      swarmNodes = await listSwarmNodes(await reachableManager(ctx))
    } catch (error) {
      // Without a manager the stack files are still checked against the inventory's nodes.
      liveNote = `inventory only; live swarm unreadable: ${toCtlError(error).message}`
    }
    return judgePlacement(ctx.inventory.name, target.name, verifyPlacement(ctx.inventory, loadStacks(ctx.loaded, [target.name]), {swarmNodes}), liveNote)
  },
}
