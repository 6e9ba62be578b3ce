/**
 * Small typed views of the Engine API's swarm objects (the raw JSON is loose and large). Parsers are
 * pure, so plans are tested on fixtures; the raw spec is kept where an update must send it back.
 */

type SwarmRole = 'manager' | 'worker'
type Availability = 'active' | 'pause' | 'drain'

export interface SwarmNodeView {
  id: string
  hostname: string
  /** The address the swarm knows the node by (Status.Addr). */
  address: string
  /** host:port managers listen on for raft (ManagerStatus.Addr), managers only. */
  managerAddress?: string
  role: SwarmRole
  availability: Availability
  /** ready, down, unknown, disconnected */
  state: string
  leader: boolean
  /** manager reachability: reachable, unreachable, unknown */
  reachability?: string
  engineVersion?: string
  labels: Record<string, string>
  /** Object version, required by node updates (optimistic locking). */
  version: number
  /** The raw spec, sent back with changes on update. */
  spec: Record<string, unknown>
}

export interface ServiceView {
  id: string
  name: string
  mode: 'replicated' | 'global' | 'other'
  replicas?: number
  constraints: string[]
  maxReplicasPerNode?: number
  /** host-mode published ports */
  hostPorts: number[]
}

export interface TaskView {
  id: string
  serviceId: string
  nodeId?: string
  slot?: number
  desiredState: string
  state: string
  /** Why the task is where it is: "no suitable node (...)" for unschedulable tasks. */
  error?: string
  message?: string
  createdAt?: string
}

/** What a node's own engine says about itself (GET /info and /version). */
export interface EngineFacts {
  version: string
  os?: string
  swarm: {
    /** inactive, pending, active, error, locked */
    state: string
    nodeId?: string
    nodeAddress?: string
    /** true on managers: this engine can answer swarm API calls */
    isManager: boolean
    clusterId?: string
    /** node IDs and addresses of the managers this node knows */
    remoteManagers: {nodeId: string; address: string}[]
    error?: string
  }
}

type Raw = Record<string, any>

export function toSwarmNode(raw: Raw): SwarmNodeView {
  const spec = (raw.Spec ?? {}) as Raw
  return {
    id: String(raw.ID),
    hostname: String(raw.Description?.Hostname ?? ''),
    address: String(raw.Status?.Addr ?? ''),
    managerAddress: raw.ManagerStatus?.Addr,
    role: spec.Role === 'manager' ? 'manager' : 'worker',
    availability: (spec.Availability ?? 'active') as Availability,
    state: String(raw.Status?.State ?? 'unknown'),
    leader: raw.ManagerStatus?.Leader === true,
    reachability: raw.ManagerStatus?.Reachability,
    engineVersion: raw.Description?.Engine?.EngineVersion,
    labels: {...(spec.Labels ?? {})},
    version: Number(raw.Version?.Index ?? 0),
    spec,
  }
}

export function toService(raw: Raw): ServiceView {
  const spec = (raw.Spec ?? {}) as Raw
  const mode = spec.Mode?.Replicated ? 'replicated' : spec.Mode?.Global ? 'global' : 'other'
  const ports = ((spec.EndpointSpec?.Ports ?? []) as Raw[]).filter((p) => p.PublishMode === 'host').map((p) => Number(p.PublishedPort))
  return {
    id: String(raw.ID),
    name: String(spec.Name ?? raw.ID),
    mode,
    replicas: mode === 'replicated' ? Number(spec.Mode.Replicated.Replicas ?? 1) : undefined,
    constraints: [...(spec.TaskTemplate?.Placement?.Constraints ?? [])],
    maxReplicasPerNode: spec.TaskTemplate?.Placement?.MaxReplicas || undefined,
    hostPorts: ports,
  }
}

export function toTask(raw: Raw): TaskView {
  return {
    id: String(raw.ID),
    serviceId: String(raw.ServiceID),
    nodeId: raw.NodeID || undefined,
    slot: raw.Slot,
    desiredState: String(raw.DesiredState ?? ''),
    state: String(raw.Status?.State ?? ''),
    error: raw.Status?.Err || undefined,
    message: raw.Status?.Message || undefined,
    createdAt: raw.CreatedAt,
  }
}

export function toEngineFacts(info: Raw, version?: Raw): EngineFacts {
  const swarm = (info.Swarm ?? {}) as Raw
  return {
    version: String(version?.Version ?? info.ServerVersion ?? ''),
    os: info.OperatingSystem,
    swarm: {
      state: String(swarm.LocalNodeState ?? 'inactive'),
      nodeId: swarm.NodeID || undefined,
      nodeAddress: swarm.NodeAddr || undefined,
      isManager: swarm.ControlAvailable === true,
      clusterId: swarm.Cluster?.ID || undefined,
      remoteManagers: ((swarm.RemoteManagers ?? []) as Raw[]).map((m) => ({nodeId: String(m.NodeID), address: String(m.Addr)})),
      error: swarm.Error || undefined,
    },
  }
}
