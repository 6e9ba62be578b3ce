import {engineApi} from '../../docker/index.js'
import type {LoadedInventory} from '../../inventory/load.js'
import {composeServices} from '../../deploy/compose.js'
import {readStacks} from '../../deploy/stacks.js'
import {registryOf} from '../../registry/reference.js'
import {askDigest, authFor, type DigestAnswer} from '../../registry/resolve.js'
import {cannotRun} from '../remote-errors.js'
import {isSwarmNode, nodeTargets} from '../targets.js'
import type {CheckDefinition, Finding} from '../types.js'

/** The images the inventory's stack files name, each once. */
function stackImages(loaded: LoadedInventory): string[] {
  const images = readStacks(loaded).flatMap((stack) => Object.values(composeServices(stack.merged)).map((s) => s.image))
  return [...new Set(images.filter((i): i is string => Boolean(i)))]
}

/** One node's answers for every image: pass when it could resolve them all, else one fail per image it could not. */
export function judgePulls(node: string, answers: readonly {image: string; answer: DigestAnswer; withAuth: boolean}[]): Finding[] {
  const failed = answers.filter((a) => !a.answer.ok)
  if (failed.length === 0) {
    const registries = [...new Set(answers.map((a) => registryOf(a.image)))].join(', ')
    return [{status: 'pass', detail: `can pull ${answers.length} image(s) from ${registries} (each tag resolved to its digest)`}]
  }
  return failed.map(({image, answer, withAuth}) => {
    const why = answer.ok ? '' : answer.message
    const failure = answer.ok ? undefined : answer.failure
    const registry = registryOf(image)
    const hint =
      failure === 'missing'
        ? `Push ${image}, or fix its tag in the stack file.`
        : failure === 'unauthorized'
          ? withAuth
            ? `Check the credentials of ${registry} in the inventory's registries.`
            : `Add ${registry} with its credentials to the inventory's registries.`
          : `Check that ${node} reaches ${registry} and its engine trusts the registry's certificate (/etc/docker/certs.d/${registry}/ca.crt).`
    return {status: 'fail', detail: `cannot pull ${image}: ${why}`, hint}
  })
}

export const registryPullCheck: CheckDefinition = {
  id: 'registry-pull',
  title: "Every Swarm node can pull the stacks' images",
  needs: "the Engine API of each Swarm node (over SSH), the inventory's registries",
  targets: (inventory) => (inventory.stacks.length > 0 ? nodeTargets(inventory, isSwarmNode) : []),
  skipReason: 'no stacks in the inventory',
  async run(ctx, target) {
    const node = target.node!
    if (!ctx.isReachable(node)) throw cannotRun(`${node.name} is not reachable over SSH`, {host: node.name})
    const docker = engineApi(ctx.pool, node)
    const answers = await Promise.all(
      stackImages(ctx.loaded).map(async (image) => {
        const auth = authFor(ctx.loaded, image)
        return {image, answer: await askDigest(docker, image, auth, ctx.timeoutMs), withAuth: auth !== undefined}
      }),
    )
    return judgePulls(node.name, answers)
  },
}
