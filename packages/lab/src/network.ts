import {runLocal} from 'ctl/lib/local.js'
import type {LabHost, LabInstance} from './types.js'

/**
 * The lab's network: a bridge in the root namespace and, per host, a namespace joined to it by a
 * veth pair (root end `<bridge>h<i>`, namespace end `eth0`). Facts are read with `ip -j`, a pure
 * planner turns facts into `ip` commands, and only what is missing or wrong is changed.
 */

export interface LinkFacts {
  exists: boolean
  up: boolean
  /** IPv4 addresses with prefix, e.g. 198.18.0.11/24 */
  addresses: string[]
  /** Name of the bridge the link is attached to. */
  master?: string
}

export interface HostNetworkFacts {
  netnsExists: boolean
  /** Root-namespace end of the veth pair. */
  veth: LinkFacts
  /** Inside the namespace. */
  eth0: LinkFacts
  loUp: boolean
}

export interface NetworkFacts {
  bridge: LinkFacts
  hosts: Record<string, HostNetworkFacts>
}

export interface NetworkAction {
  /** What it does, for the progress output. */
  description: string
  argv: string[]
  host?: string
}

const MISSING: LinkFacts = {exists: false, up: false, addresses: []}

/** Parses `ip -j addr show` into links by name. */
export function parseIpAddr(json: string): Record<string, LinkFacts> {
  const links: Record<string, LinkFacts> = {}
  const parsed = JSON.parse(json || '[]') as Array<{
    ifname: string
    flags?: string[]
    master?: string
    addr_info?: Array<{family: string; local: string; prefixlen: number}>
  }>
  for (const link of parsed) {
    links[link.ifname] = {
      exists: true,
      up: (link.flags ?? []).includes('UP'),
      addresses: (link.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      master: link.master,
    }
  }
  return links
}

function nsIp(netns: string, ...args: string[]): string[] {
  return ['ip', '-n', netns, ...args]
}

/** Commands that bring the bridge and the hosts' links to the wanted state; empty when all is right. */
export function planNetwork(instance: LabInstance, hosts: readonly LabHost[], facts: NetworkFacts): NetworkAction[] {
  const actions: NetworkAction[] = []
  const bridgeCidr = `${instance.bridgeAddress}/24`
  if (!facts.bridge.exists) actions.push({description: `create bridge ${instance.bridge}`, argv: ['ip', 'link', 'add', instance.bridge, 'type', 'bridge']})
  if (!facts.bridge.addresses.includes(bridgeCidr))
    actions.push({description: `address ${bridgeCidr} on ${instance.bridge}`, argv: ['ip', 'addr', 'add', bridgeCidr, 'dev', instance.bridge]})
  if (!facts.bridge.up) actions.push({description: `bring ${instance.bridge} up`, argv: ['ip', 'link', 'set', instance.bridge, 'up']})
  for (const host of hosts) {
    const f = facts.hosts[host.name] ?? {netnsExists: false, veth: MISSING, eth0: MISSING, loUp: false}
    const act = (description: string, argv: string[]) => actions.push({description: `${host.name}: ${description}`, argv, host: host.name})
    const cidr = `${host.address}/24`
    if (!f.netnsExists) act(`create namespace ${host.netns}`, ['ip', 'netns', 'add', host.netns])
    // A veth whose namespace end is gone (or a stray link with its name) is made again from scratch.
    const pairBroken = f.veth.exists && (!f.netnsExists || !f.eth0.exists)
    if (pairBroken) act(`remove broken link ${host.veth}`, ['ip', 'link', 'del', host.veth])
    const vethMissing = !f.veth.exists || pairBroken
    if (vethMissing)
      act(`create veth ${host.veth} <-> ${host.netns}:eth0`, ['ip', 'link', 'add', host.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.netns])
    if (vethMissing || f.veth.master !== instance.bridge)
      act(`attach ${host.veth} to ${instance.bridge}`, ['ip', 'link', 'set', host.veth, 'master', instance.bridge])
    if (vethMissing || !f.veth.up) act(`bring ${host.veth} up`, ['ip', 'link', 'set', host.veth, 'up'])
    const eth0 = vethMissing ? MISSING : f.eth0
    if (!eth0.addresses.includes(cidr)) act(`address ${cidr} on eth0`, nsIp(host.netns, 'addr', 'add', cidr, 'dev', 'eth0'))
    if (!eth0.up) act('bring eth0 up', nsIp(host.netns, 'link', 'set', 'eth0', 'up'))
    if (!f.netnsExists || !f.loUp) act('bring lo up', nsIp(host.netns, 'link', 'set', 'lo', 'up'))
  }
  return actions
}

/** Names of the namespaces on this machine. */
export async function listNetns(): Promise<string[]> {
  const {stdout} = await runLocal(['ip', '-j', 'netns', 'list'], {timeoutMs: 10_000})
  const parsed = JSON.parse(stdout || '[]') as Array<{name: string}>
  return parsed.map((n) => n.name)
}

export async function readNetworkFacts(instance: LabInstance, hosts: readonly LabHost[]): Promise<NetworkFacts> {
  const root = parseIpAddr((await runLocal(['ip', '-j', 'addr', 'show'], {timeoutMs: 10_000})).stdout)
  const namespaces = new Set(await listNetns())
  const facts: NetworkFacts = {bridge: root[instance.bridge] ?? MISSING, hosts: {}}
  await Promise.all(
    hosts.map(async (host) => {
      const netnsExists = namespaces.has(host.netns)
      let inside: Record<string, LinkFacts> = {}
      if (netnsExists) {
        const result = await runLocal(nsIp(host.netns, '-j', 'addr', 'show'), {timeoutMs: 10_000, check: false})
        if (result.code === 0) inside = parseIpAddr(result.stdout)
      }
      facts.hosts[host.name] = {netnsExists, veth: root[host.veth] ?? MISSING, eth0: inside.eth0 ?? MISSING, loUp: inside.lo?.up ?? false}
    }),
  )
  return facts
}

export interface IpBatch {
  /** Undefined for the root namespace. */
  netns?: string
  /** `ip -batch` lines: the commands without the leading `ip` (and `-n <ns>`). */
  lines: string[]
}

/**
 * Groups planned commands into `ip -batch` runs, one `ip` process instead of hundreds for 30 hosts:
 * first every root-namespace command in plan order (bridge, namespaces, veths), then one batch per
 * namespace (addresses, links up), which only depend on the root ones.
 */
export function batchNetworkActions(actions: readonly NetworkAction[]): IpBatch[] {
  const root: string[] = []
  const perNetns = new Map<string, string[]>()
  for (const {argv} of actions) {
    if (argv[0] !== 'ip') throw new Error(`not an ip command: ${argv.join(' ')}`)
    if (argv[1] === '-n') {
      const netns = argv[2]!
      perNetns.set(netns, [...(perNetns.get(netns) ?? []), argv.slice(3).join(' ')])
    } else {
      root.push(argv.slice(1).join(' '))
    }
  }
  const batches: IpBatch[] = root.length > 0 ? [{lines: root}] : []
  for (const [netns, lines] of perNetns) batches.push({netns, lines})
  return batches
}

/** Runs the planned commands: root batch first, then the namespaces' batches side by side. */
async function applyNetwork(actions: readonly NetworkAction[], log: (text: string) => void): Promise<void> {
  // A few changes are listed one by one; a whole new lab is summed up in one line.
  if (actions.length <= 12) for (const action of actions) log(action.description)
  else log(`network: ${actions.length} changes on ${new Set(actions.map((a) => a.host).filter(Boolean)).size} host(s)`)
  const [first, ...rest] = batchNetworkActions(actions)
  const run = (batch: IpBatch) =>
    runLocal(['ip', ...(batch.netns ? ['-n', batch.netns] : []), '-batch', '-'], {input: `${batch.lines.join('\n')}\n`, timeoutMs: 60_000})
  if (!first) return
  if (first.netns) await Promise.all([first, ...rest].map(run))
  else {
    await run(first)
    await Promise.all(rest.map(run))
  }
}

/** Brings the lab network to the wanted state; returns what was done. */
export async function ensureNetwork(instance: LabInstance, hosts: readonly LabHost[], log: (text: string) => void): Promise<NetworkAction[]> {
  const actions = planNetwork(instance, hosts, await readNetworkFacts(instance, hosts))
  await applyNetwork(actions, log)
  return actions
}
