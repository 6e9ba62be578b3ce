import type {Inventory, InventoryNode} from '../inventory/schema/index.js'
import {isSupportedOs, versionAtLeast, type HostProbe} from './host-facts.js'
import {findSwarmNode} from './match.js'
import type {EngineFacts, SwarmNodeView} from './views.js'

/** The raft port managers listen on. */
const SWARM_PORT = 2377

/** What ctl learnt about one inventory node before planning (gathered in parallel over SSH). */
export interface NodeFacts {
  node: string
  /** SSH worked and the host key is known. */
  reachable: boolean
  /** Why the node could not be reached. */
  error?: string
  probe?: HostProbe
  /** The engine's own view; absent when it did not answer. */
  engine?: EngineFacts
  engineError?: string
  /** The cluster's nodes as this node sees them (managers only). */
  clusterNodes?: SwarmNodeView[]
}

export interface Blocker {
  node?: string
  reason: string
  hint?: string
}

export type BootstrapStep =
  | {kind: 'install-engine'; node: string}
  | {kind: 'init'; node: string; advertiseAddress: string; defaultAddrPool?: string}
  | {kind: 'join'; node: string; role: 'manager' | 'worker'; advertiseAddress: string; via: string; remoteAddress: string}
  | {kind: 'promote' | 'demote'; node: string; nodeId: string; via: string}
  /**
   * The entry of an earlier identity of the node (it left, or was rebuilt, and joins again): removed
   * once the swarm sees it down, never forced.
   */
  | {kind: 'remove-stale'; node: string; nodeId: string; via: string}

export interface BootstrapPlan {
  /** Anything here stops the run before it changes anything. */
  blockers: Blocker[]
  /** In order: engine installs, init, manager joins (one by one), worker joins, role changes. */
  steps: BootstrapStep[]
  /** Nodes already in the swarm with the role the inventory gives them. */
  unchanged: string[]
  /** Worth saying, not stopping for. */
  notes: string[]
  /** The cluster the nodes are (or will be) in, when one exists. */
  clusterId?: string
}

export interface BootstrapOptions {
  installDocker: boolean
  minEngineVersion: string
}

const swarmMembers = (inventory: Inventory) => inventory.nodes.filter((n) => n.role !== 'none')

/** Checks one node's facts for what stops a bootstrap; returns whether an engine install is planned. */
function checkNode(node: InventoryNode, facts: NodeFacts | undefined, options: BootstrapOptions, blockers: Blocker[], notes: string[]): {install: boolean} {
  if (!facts?.reachable) {
    blockers.push({
      node: node.name,
      reason: `unreachable: ${facts?.error ?? 'no answer'}`,
      hint: 'Fix SSH access first (ctl ssh trust, keys, sshd), then run again.',
    })
    return {install: false}
  }
  const os = facts.probe?.os
  if (!os) {
    blockers.push({
      node: node.name,
      reason: 'no /etc/os-release: cannot tell which OS this is',
      hint: 'ctl supports Linux hosts with /etc/os-release (Debian or Ubuntu).',
    })
    return {install: false}
  }
  if (!facts.engine) {
    if (!facts.probe?.dockerInstalled) {
      if (!options.installDocker) {
        blockers.push({
          node: node.name,
          reason: 'Docker Engine is not installed',
          hint: 'Pass --install-docker to install docker.io from the distribution (you will be asked first).',
        })
        return {install: false}
      }
      if (!isSupportedOs(os)) {
        blockers.push({
          node: node.name,
          reason: `cannot install Docker on ${os.prettyName}: ctl installs it only on Debian and Ubuntu`,
          hint: 'Install Docker Engine by hand, then run again.',
        })
        return {install: false}
      }
      return {install: true}
    }
    blockers.push({
      node: node.name,
      reason: `Docker Engine is installed but does not answer: ${facts.engineError ?? 'no answer'}`,
      hint: 'Start dockerd (and check docker.socket in the inventory), then run again.',
    })
    return {install: false}
  }
  if (!isSupportedOs(os)) notes.push(`${node.name}: ${os.prettyName} is not a Debian-family system; continuing with its existing Engine`)
  if (!versionAtLeast(facts.engine.version, options.minEngineVersion)) {
    blockers.push({
      node: node.name,
      reason: `Docker Engine ${facts.engine.version} is older than ${options.minEngineVersion} (swarm.minEngineVersion)`,
      hint: 'Upgrade the Engine on this node, then run again.',
    })
  }
  const state = facts.engine.swarm.state
  if (state === 'pending' || state === 'error' || state === 'locked') {
    blockers.push({
      node: node.name,
      reason: `swarm state is "${state}"${facts.engine.swarm.error ? `: ${facts.engine.swarm.error}` : ''}`,
      hint:
        state === 'locked'
          ? 'Unlock it with `docker swarm unlock` and the unlock key.'
          : 'Look at the node by hand; `docker swarm leave --force` resets it if it is not needed in a swarm.',
    })
  }
  return {install: false}
}

/**
 * Decides what `ctl node bootstrap` does: pure, from the inventory and the facts of every node.
 * The existing swarm is the one the inventory's managers are in; a node in any other swarm, an even
 * number of managers or an unreachable node is a blocker, and blockers stop the whole run.
 */
export function planBootstrap(inventory: Inventory, facts: ReadonlyMap<string, NodeFacts>, options: BootstrapOptions): BootstrapPlan {
  const blockers: Blocker[] = []
  const notes: string[] = []
  const steps: BootstrapStep[] = []
  const unchanged: string[] = []
  const members = swarmMembers(inventory)
  const managers = members.filter((n) => n.role === 'manager')
  if (managers.length === 0) {
    blockers.push({reason: 'the inventory names no manager', hint: 'Give one node (or three) `role: manager` in the inventory.'})
  } else if (managers.length % 2 === 0) {
    blockers.push({
      reason: `the inventory names ${managers.length} managers: an even number cannot keep a raft quorum better than ${managers.length - 1}`,
      hint: 'Use an odd number of managers (1, 3 or 5).',
    })
  }

  const installs = new Set<string>()
  for (const node of members) {
    if (checkNode(node, facts.get(node.name), options, blockers, notes).install) installs.add(node.name)
  }

  // The existing swarm: the cluster(s) the inventory's managers manage. A swarm that only an
  // inventory worker manages is someone else's.
  const clusters = new Map<string, {managers: string[]; nodes: SwarmNodeView[]}>()
  for (const node of managers) {
    const swarm = facts.get(node.name)?.engine?.swarm
    if (swarm?.state !== 'active' || !swarm.isManager || !swarm.clusterId) continue
    const entry = clusters.get(swarm.clusterId) ?? {managers: [], nodes: facts.get(node.name)?.clusterNodes ?? []}
    entry.managers.push(node.name)
    clusters.set(swarm.clusterId, entry)
  }
  if (clusters.size > 1) {
    const list = [...clusters.entries()].map(([id, c]) => `${c.managers.join(', ')} in ${id.slice(0, 12)}`).join('; ')
    blockers.push({
      reason: `inventory nodes manage different swarms (${list})`,
      hint: 'Decide which swarm to keep; make the other nodes leave theirs (`docker swarm leave --force`) by hand.',
    })
  }
  const [clusterId, cluster] = clusters.size === 1 ? [...clusters.entries()][0]! : [undefined, undefined]
  const clusterNodeIds = new Set(cluster?.nodes.map((n) => n.id) ?? [])

  // Who is in the swarm already, and with which role.
  const inSwarm = new Map<string, {nodeId: string; role: 'manager' | 'worker'}>()
  for (const node of members) {
    const swarm = facts.get(node.name)?.engine?.swarm
    if (swarm?.state !== 'active' || !swarm.nodeId) continue
    if (clusters.size > 1) continue // the blocker above says it
    const ours = clusterId !== undefined && (swarm.isManager ? swarm.clusterId === clusterId : clusterNodeIds.has(swarm.nodeId))
    if (!ours) {
      const where = swarm.isManager
        ? `cluster ${swarm.clusterId?.slice(0, 12)}`
        : `managers ${swarm.remoteManagers.map((m) => m.address).join(', ') || 'unknown'}`
      blockers.push({
        node: node.name,
        reason: `already in another swarm (${where})`,
        hint: `If it should join this one, make it leave by hand first: ctl exec ${inventory.name} --node ${node.name} -- docker swarm leave --force`,
      })
      continue
    }
    inSwarm.set(node.name, {nodeId: swarm.nodeId, role: swarm.isManager ? 'manager' : 'worker'})
  }
  for (const node of inventory.nodes.filter((n) => n.role === 'none')) {
    const swarm = facts.get(node.name)?.engine?.swarm
    if (swarm?.state === 'active') notes.push(`${node.name} has role none but is in a swarm (left alone)`)
  }

  for (const name of installs) steps.push({kind: 'install-engine', node: name})

  // The node every join goes through: the leader if we know it, else any manager in the swarm.
  const leaderId = cluster?.nodes.find((n) => n.leader)?.id
  const inSwarmManagers = members.filter((n) => inSwarm.get(n.name)?.role === 'manager')
  let via = inSwarmManagers.find((n) => inSwarm.get(n.name)?.nodeId === leaderId) ?? inSwarmManagers[0]
  if (!via && managers[0]) {
    via = managers[0]
    steps.push({kind: 'init', node: via.name, advertiseAddress: swarmAddress(via), defaultAddrPool: inventory.swarm.defaultAddrPool})
  }
  // Entries no inventory engine claims as itself: candidates for old identities of rejoined nodes.
  const claimed = new Set([...inSwarm.values()].map((n) => n.nodeId))
  const unclaimed = cluster?.nodes.filter((n) => !claimed.has(n.id)) ?? []
  const replacedIds = new Set<string>()
  if (via) {
    const viaView = cluster?.nodes.find((n) => n.id === inSwarm.get(via!.name)?.nodeId)
    const remoteAddress = viaView?.managerAddress ?? joinAddress(swarmAddress(via))
    for (const role of ['manager', 'worker'] as const) {
      for (const node of members.filter((n) => n.role === role && n !== via && !inSwarm.has(n.name))) {
        steps.push({kind: 'join', node: node.name, role, advertiseAddress: swarmAddress(node), via: via.name, remoteAddress})
      }
    }
    for (const node of members) {
      const current = inSwarm.get(node.name)
      if (!current) continue
      if (current.role === node.role) unchanged.push(node.name)
      else steps.push({kind: node.role === 'manager' ? 'promote' : 'demote', node: node.name, nodeId: current.nodeId, via: via.name})
    }
    for (const stale of unclaimed) {
      const owner = members.find((m) => m.address === stale.address || m.advertiseAddress === stale.address)
      if (!owner) continue
      const current = inSwarm.get(owner.name)
      const replaced = (current && current.nodeId !== stale.id) || steps.some((st) => st.kind === 'join' && st.node === owner.name)
      if (!replaced) continue
      replacedIds.add(stale.id)
      if (stale.role === 'manager')
        notes.push(`${owner.name}: its old manager entry ${stale.id.slice(0, 12)} is down; demote and remove it by hand (docker node demote, docker node rm)`)
      else steps.push({kind: 'remove-stale', node: owner.name, nodeId: stale.id, via: via.name})
    }
  }
  // Known: reported by an inventory node itself, or matching one by address or hostname.
  const inventoryIds = new Set([...inSwarm.values()].map((n) => n.nodeId))
  for (const node of inventory.nodes) {
    const match = cluster && findSwarmNode(node, cluster.nodes)
    if (match) inventoryIds.add(match.id)
  }
  for (const id of replacedIds) inventoryIds.add(id)
  const strangers = cluster?.nodes.filter((n) => !inventoryIds.has(n.id)) ?? []
  if (strangers.length > 0) notes.push(`the swarm has nodes not in the inventory (left alone): ${strangers.map((n) => n.hostname || n.id).join(', ')}`)
  // Promotions before demotions, so the manager count never dips below what the quorum needs.
  steps.sort((a, b) => stepOrder(a) - stepOrder(b))
  return {blockers, steps, unchanged, notes, clusterId}
}

const ORDER: Record<BootstrapStep['kind'], number> = {'install-engine': 0, init: 1, join: 2, promote: 3, demote: 4, 'remove-stale': 5}
function stepOrder(step: BootstrapStep): number {
  return ORDER[step.kind] * 10 + (step.kind === 'join' && step.role === 'worker' ? 1 : 0)
}

/** The address a node advertises to the swarm: `advertiseAddress`, else its SSH `address`. */
function swarmAddress(node: InventoryNode): string {
  return node.advertiseAddress ?? node.address
}

/** `host:2377`, bracketing IPv6 addresses. */
function joinAddress(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]:${SWARM_PORT}` : `${address}:${SWARM_PORT}`
}

/** One line per step, for the plan shown before anything runs. */
export function describeStep(step: BootstrapStep): string {
  switch (step.kind) {
    case 'install-engine':
      return `${step.node}: install Docker Engine (docker.io) from the distribution`
    case 'init':
      return `${step.node}: swarm init, advertise ${step.advertiseAddress}${step.defaultAddrPool ? `, default address pool ${step.defaultAddrPool}` : ''}`
    case 'join':
      return `${step.node}: join as ${step.role} via ${step.via} (${step.remoteAddress}), advertise ${step.advertiseAddress}`
    case 'promote':
      return `${step.node}: promote to manager (via ${step.via})`
    case 'demote':
      return `${step.node}: demote to worker (via ${step.via})`
    case 'remove-stale':
      return `${step.node}: remove its old swarm entry ${step.nodeId.slice(0, 12)} (replaced)`
  }
}
