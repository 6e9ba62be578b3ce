import {execa} from 'execa'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse as parseYaml, stringify as stringifyYaml} from 'yaml'
import {projectRoot} from '../../support/cli.js'

/**
 * Helpers of the swarm lab tests: the lab's engines are reached directly through their sockets (the
 * test runs on the lab machine), to set up and to check independently of ctl.
 */

export const LAB_NODES = ['h1', 'h2', 'h3'] as const
export const socketOf = (node: string) => `/run/ctl-lab/${node}/docker.sock`

/** The docker CLI against one lab engine. */
export async function docker(node: string, args: string[], options: {reject?: boolean} = {}) {
  const result = await execa('docker', ['-H', `unix://${socketOf(node)}`, ...args], {reject: options.reject ?? true, timeout: 120_000})
  return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout).trim(), stderr: String(result.stderr).trim()}
}

export interface EngineSwarm {
  LocalNodeState: string
  NodeID: string
  ControlAvailable: boolean
  Cluster?: {ID: string}
}

export async function swarmOf(node: string): Promise<EngineSwarm> {
  return JSON.parse((await docker(node, ['info', '--format', '{{json .Swarm}}'])).stdout) as EngineSwarm
}

/** Every lab engine leaves its swarm: "three fresh engines". */
export async function leaveSwarmEverywhere(): Promise<void> {
  // Workers first, so the manager does not wait for them.
  for (const node of [...LAB_NODES].reverse()) await docker(node, ['swarm', 'leave', '--force'], {reject: false})
}

/** A copy of inventories/lab.yml in a temp dir (key paths made absolute), changed by `edit`. */
export function labInventoryCopy(edit: (inventory: any) => void = () => undefined, name = 'lab.yml'): string {
  const inventory = parseYaml(readFileSync(join(projectRoot, 'inventories', 'lab.yml'), 'utf8'))
  inventory.ssh.key = join(projectRoot, '.lab', 'id_ed25519')
  inventory.ssh.knownHosts = join(projectRoot, '.lab', 'known_hosts')
  edit(inventory)
  const file = join(mkdtempSync(join(tmpdir(), 'ctl-swarm-')), name)
  writeFileSync(file, stringifyYaml(inventory))
  return file
}
