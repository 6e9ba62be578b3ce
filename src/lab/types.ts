/**
 * The lab: a small copy of the seeds' platform on one Linux machine, made of real software.
 * Each lab host is a network namespace with its own address, sshd and dockerd; databases and the
 * Vault double run inside the namespaces, started the way lab.yml says ctl must start them.
 */

/** Everything the lab creates carries this prefix, so `down` removes exactly that. */
export const LAB_PREFIX = 'ctl-lab'
/** The lab's subnet: RFC 2544's benchmarking range, not used by anything else here. */
export const LAB_SUBNET_PREFIX = '198.18.0'
export const LAB_BRIDGE = 'ctllab0'
export const LAB_BRIDGE_ADDRESS = `${LAB_SUBNET_PREFIX}.1`
/** Persistent lab state (data dirs, configs, host keys): removed by `down`. */
export const LAB_STATE_DIR = '/var/lib/ctl-lab'
/** Runtime files (sockets, pid files). */
export const LAB_RUN_DIR = '/run/ctl-lab'

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
}

export function labHost(index: number): LabHost {
  const name = `h${index}`
  return {
    name,
    index,
    address: `${LAB_SUBNET_PREFIX}.${10 + index}`,
    netns: `${LAB_PREFIX}-${name}`,
    stateDir: `${LAB_STATE_DIR}/${name}`,
    runDir: `${LAB_RUN_DIR}/${name}`,
  }
}

export interface LabContext {
  hosts: LabHost[]
  /** The project checkout (where inventories/ and .lab/ live). */
  projectRoot: string
  /** Progress line for the operator. */
  log(text: string): void
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
