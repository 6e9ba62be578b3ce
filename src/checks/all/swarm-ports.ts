import {shellCommand} from '../../lib/shell.js'
import type {InventoryNode} from '../../inventory/schema/index.js'
import {cannotRun, outputTail, partResult, requireTool} from '../remote-errors.js'
import {isSwarmNode, nodeTargets} from '../targets.js'
import type {CheckDefinition, Finding} from '../types.js'

export interface PortProbe {
  proto: 'tcp' | 'udp'
  address: string
  port: number
  /** The peer's node name, for the report. */
  peer: string
}

/** What a Swarm node must reach on its peers: 2377/tcp on managers, 7946/tcp+udp and 4789/udp on all. */
export function swarmPortProbes(self: InventoryNode, nodes: readonly InventoryNode[]): PortProbe[] {
  const probes: PortProbe[] = []
  for (const peer of nodes.filter((n) => isSwarmNode(n) && n.name !== self.name)) {
    const at = {address: peer.address, peer: peer.name}
    if (peer.role === 'manager') probes.push({proto: 'tcp', port: 2377, ...at})
    probes.push({proto: 'tcp', port: 7946, ...at}, {proto: 'udp', port: 7946, ...at}, {proto: 'udp', port: 4789, ...at})
  }
  return probes
}

/**
 * One script probing every port in parallel with bash's /dev/tcp and /dev/udp (no netcat needed).
 * UDP has no handshake: a closed port is seen only as the ICMP "port unreachable" that makes the
 * second write on the connected socket fail, so "open" for UDP means "not refused".
 */
export function portProbeScript(probes: readonly PortProbe[], waitSeconds = 2): {script: string} {
  const connect = {
    tcp: 'exec 3<>/dev/tcp/$1/$2',
    udp: 'exec 3<>/dev/udp/$1/$2 && printf x >&3 && sleep 0.3 && printf x >&3',
  }
  const lines = probes.map((p) => {
    // stdin from /dev/null: bash on an sshd socket would read ~/.bashrc first (slow, and not ours to run).
    const probe = shellCommand(['timeout', waitSeconds, 'bash', '--norc', '--noprofile', '-c', connect[p.proto], 'probe', p.address, p.port])
    const tag = shellCommand([p.proto, p.address, p.port])
    return `(${probe} </dev/null 2>/dev/null; echo "$? ${tag}") &`
  })
  return {script: ['command -v bash >/dev/null || exit 127', ...lines, 'wait'].join('\n')}
}

export interface ClosedProbe extends PortProbe {
  /** refused: nothing listens (or a firewall rejects); no answer: dropped on the way (TCP only). */
  why: 'refused' | 'no answer'
}

/** Reads the `<exit code> <proto> <address> <port>` lines back into the probes that failed. */
export function closedProbes(output: string, probes: readonly PortProbe[]): ClosedProbe[] {
  const codes = new Map<string, number>()
  for (const line of output.split('\n')) {
    const m = /^(\d+) (\S+ \S+ \d+)$/.exec(line.trim())
    if (m) codes.set(m[2]!, Number(m[1]))
  }
  return probes.flatMap((p) => {
    const code = codes.get(`${p.proto} ${p.address} ${p.port}`)
    if (code === 0) return []
    return [{...p, why: code === 124 || code === undefined ? 'no answer' : 'refused'} as ClosedProbe]
  })
}

export function judgeSwarmPorts(self: string, probes: readonly PortProbe[], closed: readonly ClosedProbe[]): Finding {
  if (probes.length === 0) return {status: 'pass', detail: 'no other Swarm node to reach'}
  if (closed.length === 0)
    return {status: 'pass', detail: `${probes.length} ports reachable on ${new Set(probes.map((p) => p.peer)).size} peers (UDP: not refused)`}
  const list = closed.map((p) => `${p.peer} ${p.port}/${p.proto} (${p.why})`).join(', ')
  return {
    status: 'fail',
    detail: `from ${self}, not reachable: ${list}`,
    hint: "Open 2377/tcp (managers), 7946/tcp+udp and 4789/udp between the nodes, and check the peers' dockerd is in the swarm (swarm check).",
  }
}

export const swarmPortsCheck: CheckDefinition = {
  id: 'swarm-ports',
  title: 'Swarm ports reachable between nodes (2377, 7946, 4789)',
  needs: "SSH, bash on each Swarm node (probes run with the ssh check's host facts)",
  readsHostFacts: 'target',
  facts: ['ports'],
  targets: (inventory) => nodeTargets(inventory, isSwarmNode),
  skipReason: 'no Swarm nodes in the inventory',
  async run(ctx, target) {
    const probes = swarmPortProbes(target.node!, ctx.inventory.nodes)
    if (probes.length === 0) return judgeSwarmPorts(target.name, probes, [])
    const {ports} = await ctx.hostFacts(target.node!)
    if (!ports) throw cannotRun(`the port probes of ${target.name} were not gathered`, {host: target.name})
    const result = requireTool(partResult(target.name, 'probe ports', ports), 'bash')
    if (result.code !== 0) return {status: 'fail', detail: `port probe failed: ${outputTail(result)}`, hint: 'Run the probe by hand with `ctl exec`.'}
    return judgeSwarmPorts(target.name, probes, closedProbes(result.stdout, probes))
  },
}
