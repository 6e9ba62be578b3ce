import {readFileSync} from 'node:fs'
import {parse as parseYaml} from 'yaml'
import {resolveInventoryRelative, type LoadedInventory} from '../inventory/load.js'
import type {Inventory} from '../inventory/schema/index.js'
import {matchConstraints, type PlacementTarget} from './constraints.js'
import type {SwarmNodeView} from './views.js'

/**
 * Placement verification, for preflight and deploy: reads a stack's compose files and reports every
 * service that cannot be placed as the inventory intends, before anything is deployed.
 *
 *   const stacks = loadStacks(loaded)                    // stacks[].files from disk
 *   const report = verifyPlacement(loaded.inventory, stacks, {swarmNodes})   // pure
 *   report.findings.filter((f) => f.severity === 'error')
 *
 * Constraints are evaluated against the inventory's swarm nodes (their names taken as hostnames) and,
 * when `swarmNodes` is given, also against the live swarm (labels as they really are).
 */

export interface StackFileContent {
  path: string
  /** Parsed YAML; undefined when the file could not be read or parsed (see `error`). */
  content?: unknown
  error?: string
}

export interface StackDefinition {
  name: string
  hostModePortsAllowed: string[]
  files: StackFileContent[]
}

type FindingKind =
  'unreadable' | 'invalid-constraint' | 'no-matching-node' | 'wrong-role' | 'not-on-live-swarm' | 'host-mode-port' | 'host-port-capacity' | 'unverifiable'

interface PlacementFinding {
  stack: string
  /** The compose service name (Swarm names it `<stack>_<service>`). */
  service?: string
  kind: FindingKind
  severity: 'error' | 'warning'
  message: string
}

interface ServicePlacement {
  stack: string
  service: string
  constraints: string[]
  /** Inventory swarm nodes the constraints allow. */
  nodes: string[]
  hostModePorts: string[]
}

export interface PlacementReport {
  services: ServicePlacement[]
  findings: PlacementFinding[]
  ok: boolean
}

interface ComposeService {
  constraints?: string[]
  ports: unknown[]
  mode: 'replicated' | 'global'
  replicas: number
  maxReplicasPerNode?: number
}

const asRecord = (v: unknown): Record<string, any> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, any>) : {})

/** Services of several compose files merged the way `docker stack deploy -c a -c b` does for these fields. */
function composeServices(files: readonly StackFileContent[]): Map<string, ComposeService> {
  const services = new Map<string, ComposeService>()
  for (const file of files) {
    for (const [name, raw] of Object.entries(asRecord(asRecord(file.content).services))) {
      const svc = asRecord(raw)
      const deploy = asRecord(svc.deploy)
      const placement = asRecord(deploy.placement)
      const prev = services.get(name) ?? {ports: [], mode: 'replicated' as const, replicas: 1}
      services.set(name, {
        constraints: Array.isArray(placement.constraints) ? placement.constraints.map(String) : prev.constraints,
        ports: [...prev.ports, ...(Array.isArray(svc.ports) ? svc.ports : [])],
        mode: deploy.mode === 'global' ? 'global' : deploy.mode === 'replicated' ? 'replicated' : prev.mode,
        replicas: typeof deploy.replicas === 'number' ? deploy.replicas : prev.replicas,
        maxReplicasPerNode: typeof placement.max_replicas_per_node === 'number' ? placement.max_replicas_per_node : prev.maxReplicasPerNode,
      })
    }
  }
  return services
}

/** Published ports in host mode (only the long syntax can ask for it): "6379/tcp". */
function hostModePorts(ports: readonly unknown[]): string[] {
  return ports
    .map(asRecord)
    .filter((p) => p.mode === 'host')
    .map((p) => `${p.published ?? p.target}/${p.protocol ?? 'tcp'}`)
}

function inventoryTargets(inventory: Inventory): {swarm: PlacementTarget[]; outside: PlacementTarget[]} {
  const toTarget = (n: Inventory['nodes'][number]): PlacementTarget => ({
    name: n.name,
    hostname: n.name,
    role: n.role === 'manager' ? 'manager' : 'worker',
    labels: n.labels,
    os: 'linux',
  })
  return {swarm: inventory.nodes.filter((n) => n.role !== 'none').map(toTarget), outside: inventory.nodes.filter((n) => n.role === 'none').map(toTarget)}
}

function liveTargets(nodes: readonly SwarmNodeView[]): PlacementTarget[] {
  return nodes
    .filter((n) => n.state === 'ready' && n.availability === 'active')
    .map((n) => ({name: n.hostname, hostname: n.hostname, role: n.role, labels: n.labels, id: n.id, os: 'linux'}))
}

/** The whole check; pure. */
export function verifyPlacement(
  inventory: Inventory,
  stacks: readonly StackDefinition[],
  options: {swarmNodes?: readonly SwarmNodeView[]} = {},
): PlacementReport {
  const findings: PlacementFinding[] = []
  const services: ServicePlacement[] = []
  const targets = inventoryTargets(inventory)
  const live = options.swarmNodes && liveTargets(options.swarmNodes)
  for (const stack of stacks) {
    for (const file of stack.files.filter((f) => f.error)) {
      findings.push({stack: stack.name, kind: 'unreadable', severity: 'error', message: `${file.path}: ${file.error}`})
    }
    for (const [service, svc] of composeServices(stack.files)) {
      const constraints = svc.constraints ?? []
      const finding = (kind: FindingKind, message: string, severity: 'error' | 'warning' = 'error') =>
        findings.push({stack: stack.name, service, kind, severity, message})
      const verdicts = targets.swarm.map((t) => ({target: t, verdict: matchConstraints(constraints, t)}))
      const invalid = verdicts.find((v) => v.verdict.matches === false && /is not a valid constraint/.test(v.verdict.failed))
      const matching = verdicts.filter((v) => v.verdict.matches !== false).map((v) => v.target.name)
      const ports = hostModePorts(svc.ports)
      services.push({stack: stack.name, service, constraints, nodes: matching, hostModePorts: ports})
      const where = constraints.length ? `constraints [${constraints.join(', ')}]` : 'no constraints'
      if (invalid && invalid.verdict.matches === false) {
        finding('invalid-constraint', `${invalid.verdict.failed}: use key==value or key!=value`)
      } else if (matching.length === 0) {
        const outside = targets.outside.filter((t) => matchConstraints(constraints, t).matches === true).map((t) => t.name)
        if (outside.length > 0)
          finding(
            'wrong-role',
            `${where} match only ${outside.join(', ')}, which ${outside.length === 1 ? 'is' : 'are'} not a Swarm node (role: none): its tasks would never be scheduled`,
          )
        else finding('no-matching-node', `${where} match no node of the inventory: its tasks would stay pending`)
      } else {
        const unknown = verdicts.find((v) => v.verdict.matches === 'unknown')
        if (unknown && unknown.verdict.matches === 'unknown')
          finding('unverifiable', `${unknown.verdict.reason}; checked the other constraints only`, 'warning')
        if (live && !live.some((t) => matchConstraints(constraints, t).matches !== false)) {
          finding(
            'not-on-live-swarm',
            `${where} match ${matching.join(', ')} in the inventory but no active node of the live swarm: apply labels with \`ctl node label ${inventory.name}\`, or check node availability`,
          )
        }
      }
      if (ports.length > 0 && !stack.hostModePortsAllowed.includes(service)) {
        const allowed = stack.hostModePortsAllowed.length ? stack.hostModePortsAllowed.join(', ') : 'no service'
        finding(
          'host-mode-port',
          `publishes ${ports.join(', ')} in host mode, but the inventory allows host mode only for ${allowed} in stack ${stack.name} (stacks[].hostModePortsAllowed); keep it on the overlay network`,
        )
      }
      if (ports.length > 0 && svc.mode === 'replicated' && matching.length > 0 && svc.replicas > matching.length) {
        finding(
          'host-port-capacity',
          `${svc.replicas} replicas publish ${ports.join(', ')} in host mode (one task per node), but only ${matching.length} node(s) match: ${matching.join(', ')}`,
        )
      }
    }
  }
  return {services, findings, ok: !findings.some((f) => f.severity === 'error')}
}

/** Reads the inventory's stacks from disk (files relative to the inventory); read errors become findings. */
export function loadStacks(loaded: LoadedInventory, only?: readonly string[]): StackDefinition[] {
  return loaded.inventory.stacks
    .filter((s) => !only?.length || only.includes(s.name))
    .map((s) => ({name: s.name, hostModePortsAllowed: s.hostModePortsAllowed, files: s.files.map((f) => readStackFile(resolveInventoryRelative(loaded, f)))}))
}

export function readStackFile(path: string): StackFileContent {
  try {
    return {path, content: parseYaml(readFileSync(path, 'utf8'))}
  } catch (error) {
    return {path, error: (error as Error).message.split('\n')[0]}
  }
}
