import {z} from 'zod'

/** A secret is never written in an inventory: `env:NAME` or `file:path`, resolved at run time. */
export const secretRef = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, 'a secret reference: env:NAME or file:path (secrets are never inline)')

/** A name used in commands, hostnames and file names: no spaces or shell metacharacters. */
export const identifier = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, ".", "_" or "-"')

/** A host name or IP address. */
export const hostAddress = z.string().regex(/^[A-Za-z0-9:.[\]-]+$/, 'a host name or IP address')

/** A label map: `type: service`. */
export const labelMap = z.record(
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a label key'),
  z.string().regex(/^[A-Za-z0-9_.:/=-]*$/, 'a label value (letters, digits, "_.:/=-")'),
)

export const port = z.number().int().min(1).max(65535)

/**
 * How ctl starts, stops and checks a process on a node: the seeds run databases as systemd units,
 * Compose containers or Swarm services, and the lab as plain commands.
 */
export const processControl = z.discriminatedUnion('kind', [
  z.object({kind: z.literal('systemd'), unit: identifier}),
  z.object({kind: z.literal('docker'), container: identifier}),
  z.object({
    kind: z.literal('commands'),
    /** Each command is an argv; ctl appends extra arguments (e.g. `--wsrep-new-cluster`) where a step needs them. */
    start: z.array(z.string()).min(1),
    stop: z.array(z.string()).min(1),
    /** Kills the process when it ignores a stop (e.g. Galera nodes stuck in non-Primary). */
    kill: z.array(z.string()).min(1).optional(),
    status: z.array(z.string()).min(1).optional(),
  }),
])
export type ProcessControl = z.infer<typeof processControl>
