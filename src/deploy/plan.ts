import {CtlError, ExitCode} from '../lib/errors.js'
import type {Inventory, InventoryService} from '../inventory/schema/index.js'
import {checkHostModeCapacity} from './capacity.js'
import {composeServices, renderOverride, type ComposeService} from './compose.js'
import {applyImageOverride, sameImage} from './images.js'
import {isPinned, pinImage} from '../registry/reference.js'

/**
 * The deploy plan: which services of which stacks change, from which image to which. Pure: it reads
 * the stack files' contents and what runs now (both fetched by the caller) and decides.
 */

export interface StackInput {
  name: string
  /** Absolute paths of the stack's compose files, in order. */
  files: string[]
  /** The merged compose document of those files. */
  merged: Record<string, unknown>
  /** The `version:` of the first file (the override must match it). */
  version: string
}

export interface ServicePlan {
  stack: string
  /** Compose name, e.g. `app`. */
  service: string
  /** Swarm name, e.g. `app_app`. */
  swarmName: string
  oldImage: string | null
  newImage: string
  /** `repair`: same image, but Swarm left the service in a paused update/rollback or with extra tasks. */
  action: 'create' | 'update' | 'repair' | 'unchanged'
  /** Why a repair is needed. */
  repairReason?: string
  /** Rolled under ctl's /health gate (it is an inventory service with a health check). */
  gated: boolean
  replicas: number
}

/**
 * One `docker stack deploy` of a stack. Swarm would roll every changed service of a stack at once;
 * ctl deploys a stack once per gated service that changes, each time with the later ones pinned to
 * their running image, so the gate follows one service at a time.
 */
interface StackStage {
  /** Swarm names of the gated services this stage rolls. */
  gated: string[]
  override: string
}

export interface StackPlan {
  name: string
  files: string[]
  /** The override file ctl adds last (images and rollout settings) once every stage is through. */
  override: string
  stages: StackStage[]
  services: ServicePlan[]
}

export interface DeployPlan {
  env: string
  stacks: StackPlan[]
  /** Services whose image changes or that are created. */
  changes: ServicePlan[]
}

export interface DeploySelection {
  stack?: string
  service?: string
  images: Record<string, string>
}

/** Image reference as the stack files and --image give it → its digest on the registry (resolved before the lock). */
export type ImageDigests = Readonly<Record<string, string>>

/** Swarm names a stack's service `<stack>_<service>`. */
export function swarmServiceName(stack: string, service: string): string {
  return `${stack}_${service}`
}

/** The stacks to deploy: all, the one named by --stack, or the one holding --service. */
function selectStacks(inventory: Inventory, selection: DeploySelection, stacks: readonly StackInput[]): StackInput[] {
  if (inventory.stacks.length === 0) {
    throw new CtlError('The inventory lists no stacks to deploy', {
      exitCode: ExitCode.cannotRun,
      code: 'deploy.no-stacks',
      hint: 'Add a `stacks:` section naming the compose files.',
    })
  }
  let chosen = [...stacks]
  if (selection.stack) {
    chosen = chosen.filter((s) => s.name === selection.stack)
    if (chosen.length === 0)
      throw new CtlError(`No stack named "${selection.stack}"`, {exitCode: ExitCode.cannotRun, hint: `Known stacks: ${stacks.map((s) => s.name).join(', ')}`})
  }
  if (selection.service) {
    chosen = chosen.filter((s) => selection.service! in composeServices(s.merged))
    if (chosen.length === 0) {
      throw new CtlError(`No stack${selection.stack ? ` "${selection.stack}"` : ''} has a service "${selection.service}"`, {
        exitCode: ExitCode.cannotRun,
        code: 'deploy.unknown-service',
      })
    }
  }
  return chosen
}

export function planDeploy(
  env: string,
  inventory: Inventory,
  selection: DeploySelection,
  stacks: readonly StackInput[],
  /** Swarm service name → its current image, for services that exist. */
  running: Readonly<Record<string, string>>,
  /** Swarm service name → why it is not in a clean state (paused update or rollback, extra tasks). */
  unclean: Readonly<Record<string, string>> = {},
  digests: ImageDigests = {},
): DeployPlan {
  const chosen = selectStacks(inventory, selection, stacks)
  const known = new Set(chosen.flatMap((s) => Object.keys(composeServices(s.merged))))
  for (const name of Object.keys(selection.images)) {
    if (!known.has(name))
      throw new CtlError(`--image names "${name}", which no selected stack defines`, {
        exitCode: ExitCode.cannotRun,
        code: 'deploy.unknown-service',
        hint: `Services: ${[...known].join(', ')}`,
      })
    if (selection.service && name !== selection.service)
      throw new CtlError(`--image ${name}=... conflicts with --service ${selection.service}`, {exitCode: ExitCode.cannotRun, code: 'deploy.bad-image-flag'})
  }
  const plans = chosen.map((stack) => planStack(inventory, selection, stack, running, unclean, digests))
  return {env, stacks: plans, changes: plans.flatMap((s) => s.services.filter((x) => x.action !== 'unchanged'))}
}

function planStack(
  inventory: Inventory,
  selection: DeploySelection,
  stack: StackInput,
  running: Readonly<Record<string, string>>,
  unclean: Readonly<Record<string, string>>,
  digests: ImageDigests,
): StackPlan {
  const composed = composeServices(stack.merged)
  const images: Record<string, string> = {}
  const services: ServicePlan[] = []
  const gatedServices: InventoryService[] = []
  for (const [name, compose] of Object.entries(composed)) {
    const swarmName = swarmServiceName(stack.name, name)
    const current = running[swarmName] ?? null
    const wanted = wantedImage(selection, stack.name, name, compose, current)
    // The digest resolved for the wanted tag; what runs stays as it is written when it is the same image.
    const resolved = wanted.keep ? wanted.image : pinDigest(wanted.image, digests)
    const newImage = current !== null && sameImage(current, resolved) && !unclean[swarmName] ? current : resolved
    if (newImage !== compose.image) images[name] = newImage
    const inv = inventory.services.find((s) => s.strategy === 'swarm' && s.stack === stack.name && s.name === name)
    if (inv) {
      checkCapacity(inventory, stack.name, name, compose, inv)
      if (inv.health) gatedServices.push(inv)
    }
    services.push({
      stack: stack.name,
      service: name,
      swarmName,
      oldImage: current,
      newImage,
      action: current === null ? 'create' : !sameImage(current, newImage) ? 'update' : unclean[swarmName] ? 'repair' : 'unchanged',
      repairReason: current !== null && sameImage(current, newImage) ? unclean[swarmName] : undefined,
      gated: Boolean(inv?.health),
      replicas: compose.replicas ?? 1,
    })
  }
  const render = (imgs: Record<string, string>) => renderOverride(imgs, gatedServices, stack.version, composed)
  return {name: stack.name, files: stack.files, override: render(images), stages: planStages(services, images, render), services}
}

/**
 * The image a service should run, before digests: the stack file's, or --image's. `keep`: --service
 * names another service, so this one keeps exactly what runs now.
 */
function wantedImage(selection: DeploySelection, stack: string, name: string, compose: ComposeService, current: string | null): {image: string; keep: boolean} {
  if (!compose.image) throw new CtlError(`Service "${name}" of stack "${stack}" has no image`, {code: 'deploy.bad-stack-file'})
  if (selection.service && name !== selection.service && current) return {image: current, keep: true}
  return {image: applyImageOverride(compose.image, selection.images[name]), keep: false}
}

/** Every image a deploy would put on: each is resolved on the registry before the lock (a pinned one is checked to exist there). */
export function imagesToResolve(
  inventory: Inventory,
  selection: DeploySelection,
  stacks: readonly StackInput[],
  running: Readonly<Record<string, string>>,
): string[] {
  const out = new Set<string>()
  for (const stack of selectStacks(inventory, selection, stacks)) {
    for (const [name, compose] of Object.entries(composeServices(stack.merged))) {
      const wanted = wantedImage(selection, stack.name, name, compose, running[swarmServiceName(stack.name, name)] ?? null)
      if (!wanted.keep) out.add(wanted.image)
    }
  }
  return [...out]
}

/** `repo:tag` → `repo:tag@digest` when its digest was resolved; a reference already pinned stays. */
function pinDigest(image: string, digests: ImageDigests): string {
  const digest = digests[image]
  return digest && !isPinned(image) ? pinImage(image, digest) : image
}

/** One stage per gated service whose image changes, the later ones pinned to what runs now. */
function planStages(
  services: readonly ServicePlan[],
  images: Readonly<Record<string, string>>,
  render: (images: Record<string, string>) => string,
): StackStage[] {
  const rolled = services.filter((s) => s.gated && s.action === 'update')
  if (rolled.length <= 1) return [{gated: services.filter((s) => s.gated && s.action !== 'unchanged').map((s) => s.swarmName), override: render({...images})}]
  return rolled.map((s, i) => {
    const pinned: Record<string, string> = {...images}
    for (const later of rolled.slice(i + 1)) pinned[later.service] = later.oldImage!
    const gated = i === 0 ? services.filter((x) => x.gated && x.action !== 'unchanged' && !rolled.slice(1).includes(x)) : [s]
    return {gated: gated.map((x) => x.swarmName), override: render(pinned)}
  })
}

function checkCapacity(inventory: Inventory, stack: string, name: string, compose: ComposeService, inv: InventoryService): void {
  const verdict = checkHostModeCapacity(compose, inv.rollout, inventory.nodes)
  if (!verdict.ok) {
    throw new CtlError(`Service "${name}" of stack "${stack}" ${verdict.reason}`, {
      exitCode: ExitCode.cannotRun,
      code: 'deploy.host-port-capacity',
      hint: `Lower replicas to ${Math.max(0, verdict.eligible.length - inv.rollout.parallelism)}, add eligible nodes, or use order stop-first (brief capacity loss) in the inventory's rollout.`,
    })
  }
}
