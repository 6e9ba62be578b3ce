/**
 * The lab: a small copy of the seeds' platform on one Linux machine, made of real software.
 * Each lab host is a network namespace with its own address, sshd and dockerd; databases and the
 * Vault double run inside the namespaces, started the way lab.yml says ctl must start them.
 */

/** Everything the lab creates carries this prefix, so `down` removes exactly that. */
export const LAB_PREFIX = 'ctl-lab'
/** The lab's subnet: RFC 2544's benchmarking range, not used by anything else here. */
const LAB_SUBNET_PREFIX = '198.18.0'
export const LAB_BRIDGE = 'ctllab0'
const LAB_BRIDGE_ADDRESS = `${LAB_SUBNET_PREFIX}.1`
/** Persistent lab state (data dirs, configs, host keys): removed by `down`. */
export const LAB_STATE_DIR = '/var/lib/ctl-lab'
/** Runtime files (sockets, pid files). */
export const LAB_RUN_DIR = '/run/ctl-lab'

/**
 * One lab on this machine. The default instance uses the names above; `CTL_LAB_INSTANCE=<k>` (1-250)
 * gives a separate lab (`ctl-lab<k>`, bridge `ctllab<k>`, subnet 198.18.<k>.0/24) so `down` can be
 * rehearsed without touching the shared one.
 */
export interface LabInstance {
  /** 0 for the default instance. */
  id: number
  /** Namespaces are `<prefix>-h<i>`. */
  prefix: string
  bridge: string
  /** First three octets of the subnet, e.g. 198.18.0 */
  subnetPrefix: string
  bridgeAddress: string
  stateDir: string
  runDir: string
  /** Name of the inventory describing it: `lab` for the default instance, `lab<k>` otherwise. */
  inventoryName: string
}

export const DEFAULT_LAB_INSTANCE: LabInstance = {
  id: 0,
  prefix: LAB_PREFIX,
  bridge: LAB_BRIDGE,
  subnetPrefix: LAB_SUBNET_PREFIX,
  bridgeAddress: LAB_BRIDGE_ADDRESS,
  stateDir: LAB_STATE_DIR,
  runDir: LAB_RUN_DIR,
  inventoryName: 'lab',
}

export interface LabHost {
  /** h1, h2, ... as in inventories/lab.yml */
  name: string
  index: number
  address: string
  netns: string
  /** /var/lib/ctl-lab/<name> */
  stateDir: string
  /** /run/ctl-lab/<name> */
  runDir: string
  /** The host's dockerd socket: /run/ctl-lab/<name>/docker.sock */
  dockerSocket: string
  /** The root-namespace end of the host's veth pair (its other end is eth0 inside the namespace). */
  veth: string
}

export function labHost(index: number, instance: LabInstance = DEFAULT_LAB_INSTANCE): LabHost {
  const name = `h${index}`
  const runDir = `${instance.runDir}/${name}`
  return {
    name,
    index,
    address: `${instance.subnetPrefix}.${10 + index}`,
    netns: `${instance.prefix}-${name}`,
    stateDir: `${instance.stateDir}/${name}`,
    runDir,
    dockerSocket: `${runDir}/docker.sock`,
    // Interface names are limited to 15 characters: ctllab<k>h<i> stays well below.
    veth: `${instance.bridge}h${index}`,
  }
}

/**
 * The shared lab's backup host (seed 000's dedicated backup node): one more host after the three of
 * inventories/lab.yml, with sshd and a MariaDB async replica of the Galera cluster, no dockerd and
 * outside the Swarm. Other instances (sshd-only labs of N hosts) have none.
 */
const BACKUP_HOST_INDEX = 4

export function labBackupHost(ctx: Pick<LabContext, 'instance' | 'hosts'>): LabHost | undefined {
  const instance = ctx.instance ?? DEFAULT_LAB_INSTANCE
  if (instance.id !== DEFAULT_LAB_INSTANCE.id || ctx.hosts.length !== BACKUP_HOST_INDEX - 1) return undefined
  return labHost(BACKUP_HOST_INDEX, instance)
}

/** The hosts that get a namespace and sshd: the lab's hosts and, in the shared lab, its backup host. */
export function sshHosts(ctx: Pick<LabContext, 'instance' | 'hosts'>): LabHost[] {
  const backup = labBackupHost(ctx)
  return backup ? [...ctx.hosts, backup] : ctx.hosts
}

export interface LabContext {
  hosts: LabHost[]
  /** The project checkout (where inventories/ and .lab/ live). */
  projectRoot: string
  /** Progress line for the operator. */
  log(text: string): void
  /** Which lab (default: the shared one, DEFAULT_LAB_INSTANCE). */
  instance?: LabInstance
}

export interface LabStatusRow {
  component: string
  host?: string
  ok: boolean
  detail: string
}

export interface LabBreakScenario {
  name: string
  summary: string
  /** Optional argument, e.g. the node name for node-down. */
  argument?: string
  run(ctx: LabContext, argument?: string): Promise<string>
}

/** A piece of the lab (network+sshd, docker, galera, patroni, vault double, app+haproxy). */
export interface LabComponent {
  name: string
  /** Debian packages it needs; `lab up` installs the missing ones first. */
  packages: string[]
  /** Idempotent: creates or repairs, leaves what already works alone. */
  up(ctx: LabContext): Promise<void>
  /** Stops its processes and removes what it made. */
  down(ctx: LabContext): Promise<void>
  status(ctx: LabContext): Promise<LabStatusRow[]>
  breaks?: LabBreakScenario[]
}

/** The default lab (instance 0): the one inventories/lab.yml describes (Vault, pgBackRest's scratch servers). */
export function isDefaultLab(ctx: Pick<LabContext, 'instance'>): boolean {
  return (ctx.instance?.id ?? 0) === 0
}
