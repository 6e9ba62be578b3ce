import {z} from 'zod'
import {identifier, port, secretRef} from './common.js'

/** A Vault Raft cluster (seed 002's docker-stack-vault.yml). */
export const vault = z.object({
  members: z.array(z.object({node: identifier, port: port.default(8200), scheme: z.enum(['http', 'https']).default('https')})).min(1),
  keyShares: z.number().int().min(1).max(255).default(5),
  keyThreshold: z.number().int().min(1).max(255).default(3),
  /** PGP public key files, one per key holder; Vault then returns each share encrypted for its holder. */
  pgpKeys: z.array(z.string()).optional(),
  /** Where `ctl vault init` writes the shares and root token (mode 0600). */
  keysFile: z.string().default('~/.config/ctl/vault-keys.json'),
  /** CA bundle to verify Vault's certificate. */
  caCert: z.string().optional(),
  /** Token for authenticated reads (the Raft configuration in `ctl vault status`); default $VAULT_TOKEN. */
  token: secretRef.optional(),
})

export const backups = z.object({
  /** Recovery point objective: the newest backup must be younger than this. */
  rpoHours: z.number().positive().default(24),
})

export const deployLock = z.object({
  /** Directory holding ctl's locks (made atomically with mkdir): the deploy lock on the first manager, runbook locks on the cluster's hosts. */
  dir: z.string().default('/var/lib/ctl/locks'),
  /** A deploy lock whose holder showed no life (taking it, heartbeats) for this long is stale: --force-unlock may break it. */
  staleAfterMinutes: z.number().positive().default(60),
  /** A runbook run lock whose holder sent no heartbeat (every 30 s) for this long is taken over by the next run. */
  runbookStaleAfterMinutes: z.number().positive().default(5),
})
