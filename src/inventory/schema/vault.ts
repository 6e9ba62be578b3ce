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
  /** Directory on the first manager holding the deploy lock (made atomically with mkdir). */
  dir: z.string().default('/var/lib/ctl/locks'),
  /** A lock older than this is reported as stale. */
  staleAfterMinutes: z.number().positive().default(60),
})
