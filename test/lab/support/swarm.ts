import {execa} from 'execa'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse as parseYaml, stringify as stringifyYaml} from 'yaml'
import {projectRoot} from '../../support/cli.js'

/**
 * Helpers of the swarm lab tests: the lab's engines are reached directly through their sockets (the
 * test runs on the lab machine), to set up and to check independently of ctl. `runDir` is the lab
 * instance's runtime directory: /run/ctl-lab for the shared lab, /run/ctl-lab<k> for instance k.
 */

export const LAB_NODES = ['h1', 'h2', 'h3'] as const
const SHARED_LAB_RUN_DIR = '/run/ctl-lab'

/** The docker CLI against one lab engine. */
export async function docker(node: string, args: string[], options: {reject?: boolean; runDir?: string} = {}) {
  const socket = `${options.runDir ?? SHARED_LAB_RUN_DIR}/${node}/docker.sock`
  const result = await execa('docker', ['-H', `unix://${socket}`, ...args], {reject: options.reject ?? true, timeout: 120_000})
  return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout).trim(), stderr: String(result.stderr).trim()}
}

export interface EngineSwarm {
  LocalNodeState: string
  NodeID: string
  ControlAvailable: boolean
  Cluster?: {ID: string}
}

export async function swarmOf(node: string, runDir?: string): Promise<EngineSwarm> {
  return JSON.parse((await docker(node, ['info', '--format', '{{json .Swarm}}'], {runDir})).stdout) as EngineSwarm
}

/** Every engine of a lab leaves its swarm: "three fresh engines". */
export async function leaveSwarmEverywhere(runDir?: string): Promise<void> {
  // Workers first, so the manager does not wait for them.
  for (const node of [...LAB_NODES].reverse()) await docker(node, ['swarm', 'leave', '--force'], {reject: false, runDir})
}

/**
 * A copy of a lab inventory (default inventories/lab.yml) in a temp dir, key paths made absolute,
 * changed by `edit`. Returns the path; the env name is the file name (`lab` unless given).
 */
export function labInventoryCopy(edit: (inventory: any) => void = () => undefined, options: {from?: string; name?: string} = {}): string {
  const from = options.from ?? join(projectRoot, 'inventories', 'lab.yml')
  const inventory = parseYaml(readFileSync(from, 'utf8'))
  const labDir = join(projectRoot, '.lab')
  inventory.ssh.key = join(labDir, 'id_ed25519')
  inventory.ssh.knownHosts = join(labDir, inventory.ssh.knownHosts.split('/').pop())
  // Secret references relative to inventories/ would point nowhere from the copy's directory.
  const absolute = (value: unknown): unknown =>
    typeof value === 'string' && value.startsWith('file:../')
      ? `file:${join(projectRoot, value.slice('file:../'.length))}`
      : Array.isArray(value)
        ? value.map(absolute)
        : value && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, absolute(v)]))
          : value
  Object.assign(inventory, absolute(inventory))
  edit(inventory)
  const file = join(mkdtempSync(join(tmpdir(), 'ctl-swarm-')), options.name ?? 'lab.yml')
  writeFileSync(file, stringifyYaml(inventory))
  return file
}
