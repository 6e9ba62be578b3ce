import {z} from './zod.js'
import {secretRef} from './common.js'

/**
 * An image registry the platform pulls from, with its credentials: the manager logs in with them
 * (password on stdin) and a deploy forwards them to the nodes (`--with-registry-auth`). `host` is the
 * registry part of image references (`registry.example.com`, `10.0.0.5:5000`); Docker Hub is `docker.io`.
 */
const registry = z.strictObject({
  host: z
    .string()
    .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/, 'a registry host name or address, with an optional :port (e.g. registry.example.com:5000)'),
  username: z.string().regex(/^[^\p{Cc}\s]+$/u, 'a user name without spaces or control characters'),
  password: secretRef,
})

export const registries = z.array(registry).superRefine((list, ctx) => {
  const seen = new Set<string>()
  list.forEach((r, i) => {
    if (seen.has(r.host)) ctx.addIssue({code: 'custom', path: [i, 'host'], message: `registry "${r.host}" is listed twice`})
    seen.add(r.host)
  })
})

export type InventoryRegistry = z.infer<typeof registry>
