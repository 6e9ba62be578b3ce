import {dockerSocket} from '../../docker/index.js'
import {versionAtLeast} from '../../swarm/host-facts.js'
import {cannotRun, outputTail, partResult, requireTool} from '../remote-errors.js'
import {isSwarmNode, nodeTargets} from '../targets.js'
import type {CheckDefinition, Finding} from '../types.js'

export function judgeEngineVersion(version: string, minimum: string): Finding {
  if (!/^\d+\.\d+/.test(version)) return {status: 'fail', detail: `unreadable engine version "${version}"`, hint: 'Run `docker version` on the node.'}
  if (!versionAtLeast(version, minimum)) {
    return {
      status: 'fail',
      detail: `Docker Engine ${version} is older than ${minimum}`,
      hint: `Upgrade the engine to ${minimum} or later (the inventory's swarm.minEngineVersion).`,
    }
  }
  return {status: 'pass', detail: `Docker Engine ${version} (>= ${minimum})`}
}

export const dockerEngineCheck: CheckDefinition = {
  id: 'docker-engine',
  title: 'Docker Engine version',
  needs: "SSH, docker CLI on each Swarm node (read with the ssh check's host facts)",
  readsHostFacts: 'target',
  facts: ['docker'],
  targets: (inventory) => nodeTargets(inventory, isSwarmNode),
  skipReason: 'no Swarm nodes in the inventory',
  async run(ctx, target) {
    const node = target.node!
    const {docker} = await ctx.hostFacts(node)
    if (!docker) throw cannotRun(`the engine version of ${node.name} was not gathered`, {host: node.name})
    const result = requireTool(partResult(node.name, 'docker version', docker), 'docker CLI')
    if (result.code !== 0) {
      return {
        status: 'fail',
        detail: `Docker Engine not answering on ${dockerSocket(node)}: ${outputTail(result)}`,
        hint: `Start dockerd on ${node.name}, or fix docker.socket in the inventory.`,
      }
    }
    return judgeEngineVersion(result.stdout.trim(), ctx.inventory.swarm.minEngineVersion)
  },
}
