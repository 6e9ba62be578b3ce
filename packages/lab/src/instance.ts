import {CtlError, ExitCode} from 'ctl/lib/errors.js'
import {DEFAULT_LAB_INSTANCE, LAB_BRIDGE, LAB_PREFIX, LAB_RUN_DIR, LAB_STATE_DIR, labHost, type LabHost, type LabInstance} from './types.js'

/** The most hosts one lab may have (addresses .11-.110, all inside its /24; veth names stay under 15 characters). */
export const MAX_LAB_HOSTS = 100
/** The host count of inventories/lab.yml. */
export const DEFAULT_LAB_HOSTS = 3

/**
 * The lab instance chosen by `CTL_LAB_INSTANCE`: unset, empty or 0 is the shared default lab;
 * k in 1-250 is a separate lab with its own prefix, bridge, subnet and directories.
 */
export function labInstance(value: string | undefined = process.env.CTL_LAB_INSTANCE): LabInstance {
  if (value === undefined || value.trim() === '' || value.trim() === '0') return DEFAULT_LAB_INSTANCE
  const id = Number(value.trim())
  if (!Number.isInteger(id) || id < 1 || id > 250) {
    throw new CtlError(`CTL_LAB_INSTANCE=${value} is not a lab instance`, {
      exitCode: ExitCode.cannotRun,
      code: 'lab.instance',
      hint: 'Use a number from 1 to 250 for a separate lab, or leave it unset for the shared lab.',
    })
  }
  const prefix = `${LAB_PREFIX}${id}`
  const subnetPrefix = `198.18.${id}`
  return {
    id,
    prefix,
    // ctllab0 is the default instance's bridge; instance k gets ctllab<k>.
    bridge: `${LAB_BRIDGE.replace(/0$/, '')}${id}`,
    subnetPrefix,
    bridgeAddress: `${subnetPrefix}.1`,
    stateDir: `${LAB_STATE_DIR}${id}`,
    runDir: `${LAB_RUN_DIR}${id}`,
    inventoryName: `lab${id}`,
  }
}

export function labHosts(count: number, instance: LabInstance = DEFAULT_LAB_INSTANCE): LabHost[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_LAB_HOSTS) {
    throw new CtlError(`A lab has 1 to ${MAX_LAB_HOSTS} hosts, not ${count}`, {exitCode: ExitCode.cannotRun, code: 'lab.hosts'})
  }
  return Array.from({length: count}, (_, i) => labHost(i + 1, instance))
}

/** The host index of a namespace of this instance (`ctl-lab-h2` → 2), or undefined for anything else. */
export function hostIndexOfNetns(netns: string, instance: LabInstance): number | undefined {
  const match = new RegExp(`^${instance.prefix}-h(\\d+)$`).exec(netns)
  return match ? Number(match[1]) : undefined
}

/** The instance's links in the root namespace: its bridge and the hosts' veth ends. */
export function labLinkPattern(instance: LabInstance): RegExp {
  return new RegExp(`^${instance.bridge}(h\\d+)?$`)
}

/** Where the lab's key pair, known_hosts and generated inventories live (gitignored). */
export function labFilesDir(projectRoot: string): string {
  return `${projectRoot}/.lab`
}

/** The known_hosts file of an instance: `.lab/known_hosts` for the default, `.lab/known_hosts-lab<k>` otherwise. */
export function knownHostsFile(projectRoot: string, instance: LabInstance): string {
  return `${labFilesDir(projectRoot)}/known_hosts${instance.id === 0 ? '' : `-${instance.inventoryName}`}`
}

export function labKeyFile(projectRoot: string): string {
  return `${labFilesDir(projectRoot)}/id_ed25519`
}

/**
 * The inventory describing a lab: inventories/lab.yml for the default 3-host lab, otherwise a
 * generated `.lab/<inventoryName>-<N>.yml` (e.g. `.lab/lab-30.yml`, `.lab/lab2-3.yml`).
 */
export function labInventoryPath(projectRoot: string, instance: LabInstance, count: number): {path: string; generated: boolean} {
  if (instance.id === 0 && count === DEFAULT_LAB_HOSTS) return {path: `${projectRoot}/inventories/lab.yml`, generated: false}
  return {path: `${labFilesDir(projectRoot)}/${instance.inventoryName}-${count}.yml`, generated: true}
}
