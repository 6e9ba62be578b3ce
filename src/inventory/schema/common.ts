import {z} from './zod.js'

/**
 * A name that may become part of a file name or path, locally or on a host (env names, run ids,
 * node, stack and service names): starts with a letter or digit, then letters, digits, ".", "_",
 * "-"; never "..". Leaves no room for separators, a leading dot or control characters.
 */
const SAFE_NAME = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.-]*$/
export const SAFE_NAME_RULE = 'letters, digits, ".", "_" or "-", starting with a letter or digit, without ".."'

export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name)
}

/** A secret is never written in an inventory: `env:NAME` or `file:path`, resolved at run time. */
export const secretRef = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:[^\p{Cc}]+)$/u, 'a secret reference: env:NAME or file:path (secrets are never inline)')

/** A name used in commands, hostnames and file names: no spaces or shell metacharacters. */
export const identifier = z.string().regex(SAFE_NAME, SAFE_NAME_RULE)

/** A host name or IP address. */
export const hostAddress = z.string().regex(/^[A-Za-z0-9:[][A-Za-z0-9:.[\]-]*$/, 'a host name or IP address (not starting with "-" or ".")')

/** One line of text: no newline or other control character (it reaches a command line or a file). */
export const textLine = z.string().regex(/^[^\p{Cc}]*$/u, 'one line of text without control characters')

/** A path on the operator's machine; `~` and paths relative to the inventory file are resolved. */
export const localPath = z.string().regex(/^[^\p{Cc}]+$/u, 'a path without control characters')

/** A path on a node: absolute, no ".." segment, no control characters. */
export const remotePath = z
  .string()
  .regex(/^\/[^\p{Cc}]*$/u, 'an absolute path (starting with /) without control characters')
  .refine((p) => !p.split('/').includes('..'), 'a path without ".." segments')

/** A path on each node: `{node}` becomes the node's name (the lab's hosts share one filesystem). */
export const perNodePath = remotePath.refine((p) => !p.replaceAll('{node}', '').includes('{'), 'a path whose only placeholder is {node}')

/** A perNodePath on one node. */
export function nodePath(template: string, node: string): string {
  return template.replaceAll('{node}', node)
}

export const labelKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a label key')

/** A URL ctl asks over HTTP: no whitespace or control characters (URL parsing would silently drop them). */
export const httpUrl = z
  .string()
  .regex(/^[^\s\p{Cc}]+$/u, 'a URL without spaces or control characters')
  .pipe(z.url())

/** A label map: `type: service`. */
export const labelMap = z.record(labelKey, z.string().regex(/^[A-Za-z0-9_.:/=-]*$/, 'a label value (letters, digits, "_.:/=-")'))

export const port = z.number().int().min(1).max(65535)

/**
 * Waits and timeouts become timers: Node fires a timer above 2^31-1 ms (~24.8 days) after 1 ms,
 * so a huge value would mean "no wait at all". A day is more than any step of ctl needs.
 */
const A_DAY_SECONDS = 86_400
export const durationMs = z
  .number()
  .int()
  .positive()
  .max(A_DAY_SECONDS * 1000, 'at most a day (86400000 ms)')
export const durationSeconds = z.number().nonnegative().max(A_DAY_SECONDS, 'at most a day (86400 s)')

/**
 * How ctl starts, stops and checks a process on a node: the seeds run databases as systemd units,
 * Compose containers or Swarm services, and the lab as plain commands.
 */
export const processControl = z.discriminatedUnion('kind', [
  z.strictObject({kind: z.literal('systemd'), unit: identifier}),
  z.strictObject({kind: z.literal('docker'), container: identifier}),
  z.strictObject({
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
