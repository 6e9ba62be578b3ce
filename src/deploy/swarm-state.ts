/**
 * What ctl reads of a service while it rolls: its update state and its tasks, parsed from the docker
 * CLI's JSON. A task is "current" when it was made from the service's present spec.
 */

export interface TaskView {
  id: string
  slot?: number
  nodeId?: string
  /** Task state: new, pending, ..., starting, running, complete, shutdown, failed, rejected. */
  state: string
  desiredState: string
  image: string
  /** Made from the service's present spec (image, settings and force-update counter). */
  current: boolean
  error?: string
  createdAt: string
}

export interface ServiceView {
  name: string
  image: string
  previousImage?: string
  replicas: number
  /** Swarm's UpdateStatus.State: updating, paused, completed, rollback_started, rollback_paused, rollback_completed. */
  updateState?: string
  updateMessage?: string
  tasks: TaskView[]
}

type Json = Record<string, any>

function containerSpecKey(spec: Json | undefined): string {
  return JSON.stringify({c: spec?.ContainerSpec ?? null, f: spec?.ForceUpdate ?? 0})
}

export function parseServiceJson(service: Json, tasks: readonly Json[]): ServiceView {
  const template = service.Spec?.TaskTemplate
  const key = containerSpecKey(template)
  return {
    name: service.Spec?.Name,
    image: template?.ContainerSpec?.Image ?? '',
    previousImage: service.PreviousSpec?.TaskTemplate?.ContainerSpec?.Image,
    replicas: service.Spec?.Mode?.Replicated?.Replicas ?? 0,
    updateState: service.UpdateStatus?.State,
    updateMessage: service.UpdateStatus?.Message,
    tasks: tasks.map((t) => ({
      id: t.ID,
      slot: t.Slot,
      nodeId: t.NodeID || undefined,
      state: t.Status?.State ?? 'unknown',
      desiredState: t.DesiredState ?? 'unknown',
      image: t.Spec?.ContainerSpec?.Image ?? '',
      current: containerSpecKey(t.Spec) === key,
      error: t.Status?.Err || undefined,
      createdAt: t.CreatedAt,
    })),
  }
}

/** Swarm service name → image, from the Engine API's service objects. */
export function serviceImages(services: readonly Json[]): Record<string, string> {
  return Object.fromEntries(services.map((s) => [s.Spec?.Name as string, s.Spec?.TaskTemplate?.ContainerSpec?.Image as string]))
}

/** Tasks of the present spec that Swarm wants running. */
export function currentTasks(view: ServiceView): TaskView[] {
  return view.tasks.filter((t) => t.current && t.desiredState === 'running')
}

/** Swarm's update states that leave a service half-way: only a new update moves it on. */
const STUCK_STATES = new Set(['paused', 'rollback_paused', 'updating', 'rollback_started'])

/**
 * Why a service is not fit to deploy onto, if it is not: an update or rollback Swarm paused (or one
 * still under way), or a number of running tasks other than its replicas (3/2 is not fit).
 */
export function serviceUnfitness(view: ServiceView, options: {inProgressOk?: boolean} = {}): string | undefined {
  const running = view.tasks.filter((t) => t.desiredState === 'running' && t.state === 'running').length
  const wanted = view.tasks.filter((t) => t.desiredState === 'running').length
  if (view.updateState && STUCK_STATES.has(view.updateState) && !(options.inProgressOk && !view.updateState.endsWith('paused'))) {
    return `Swarm ${view.updateState.replace('_', ' ')}${view.updateMessage ? ` (${view.updateMessage})` : ''}, ${running}/${view.replicas} tasks running`
  }
  if (running !== view.replicas || wanted !== view.replicas) return `${running}/${view.replicas} tasks running${wanted !== running ? `, ${wanted} wanted` : ''}`
  return undefined
}

/** One line on where a service stands: update state, tasks running per image. */
export function describeState(view: ServiceView): string {
  const running = view.tasks.filter((t) => t.desiredState === 'running')
  const byImage = new Map<string, number>()
  for (const t of running) byImage.set(`${t.image} ${t.state}`, (byImage.get(`${t.image} ${t.state}`) ?? 0) + 1)
  const tasks = [...byImage].map(([k, n]) => `${n} ${k}`).join(', ') || 'no task'
  return `${view.name}: spec ${view.image}, update state ${view.updateState ?? 'none'}${view.updateMessage ? ` (${view.updateMessage})` : ''}; ${running.length} task(s) for ${view.replicas} replica(s): ${tasks}`
}
