import {z} from './zod.js'
import {durationMs, hostAddress, identifier, labelKey, labelMap, localPath, port, remotePath} from './common.js'

export const sshSettings = z.strictObject({
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*$/, 'a user name')
    .default('root'),
  port: port.default(22),
  /** Private key path; `~` and paths relative to the inventory file are resolved. */
  key: localPath.optional(),
  /** known_hosts file used to verify host keys (never disabled). Default ~/.ssh/known_hosts. */
  knownHosts: localPath.optional(),
  connectTimeoutMs: durationMs.default(8000),
  commandTimeoutMs: durationMs.default(120000),
  /** How many hosts are worked on at once. */
  concurrency: z.number().int().min(1).max(200).default(16),
  /** Prefix remote commands with `sudo -n` (for a non-root user). */
  sudo: z.boolean().default(false),
})

const dockerSettings = z.strictObject({
  /** The engine's socket on the node. */
  socket: remotePath.default('/var/run/docker.sock'),
})

const swarmRole = z.enum(['manager', 'worker', 'none'])

export const node = z.strictObject({
  name: identifier,
  address: hostAddress,
  /** Per-node SSH overrides of the inventory's `ssh`. */
  ssh: sshSettings.partial().optional(),
  docker: dockerSettings.partial().optional(),
  /** Where the other Swarm nodes reach this one (e.g. its private-network IP) when not `address`. */
  advertiseAddress: hostAddress.optional(),
  /** Swarm role; `none` for hosts outside the swarm (e.g. seed 001's plain servers). */
  role: swarmRole.default('worker'),
  /** Swarm node labels ctl manages, e.g. `type: service` or `type: db`. */
  labels: labelMap.default({}),
})
export type InventoryNode = z.infer<typeof node>

export const swarm = z.strictObject({
  /** Label keys ctl owns: it adds, changes and removes only these. Default: the keys used by nodes. */
  managedLabelKeys: z.array(labelKey).optional(),
  minEngineVersion: z
    .string()
    .regex(/^\d+\.\d+(\.\d+)?$/)
    .default('20.10'),
  /** Address pool for overlay networks (lab engines need their own). */
  defaultAddrPool: z
    .string()
    .regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'an address range in CIDR form, e.g. 10.20.0.0/16')
    .optional(),
})

export const limits = z.strictObject({
  minDiskFreeMb: z.number().int().nonnegative().default(2048),
  /** The path whose free space is checked. */
  diskPath: remotePath.default('/'),
  minMemAvailableMb: z.number().int().nonnegative().default(512),
  maxClockSkewMs: z.number().int().positive().default(2000),
})
