import {z} from './zod.js'
import {identifier, localPath, perNodePath, port, remotePath, secretRef} from './common.js'

/** A Vault Raft cluster (seed 002's docker-stack-vault.yml). */
export const vault = z.strictObject({
  members: z
    .array(
      z.strictObject({
        node: identifier,
        port: port.default(8200),
        scheme: z.enum(['http', 'https']).default('https'),
        /**
         * Plain http to an address that is not loopback or the lab's 198.18.0.0/15 draws a warning
         * (unseal shares and the root token would cross the network in clear); `true` says the path
         * is private on purpose (e.g. a WireGuard link) and silences it.
         */
        insecureHttpOk: z.boolean().default(false),
      }),
    )
    .min(1),
  keyShares: z.number().int().min(1).max(255).default(5),
  keyThreshold: z.number().int().min(1).max(255).default(3),
  /** PGP public key files, one per key holder; Vault then returns each share encrypted for its holder. */
  pgpKeys: z.array(localPath).optional(),
  /** Where `ctl vault init` writes the shares and root token (mode 0600). */
  keysFile: localPath.default('~/.config/ctl/vault-keys.json'),
  /** CA bundle to verify Vault's certificate. */
  caCert: localPath.optional(),
  /** Token for authenticated reads (the Raft configuration in `ctl vault status`); default $VAULT_TOKEN. */
  token: secretRef.optional(),
})

export const backups = z.strictObject({
  /** Recovery point objective: the newest backup must be younger than this. */
  rpoHours: z.number().positive().default(24),
  /** Restore points `ctl backup prune` keeps per database (seed 003: PostgreSQL 30 days of daily backups). At least one. */
  keep: z
    .strictObject({
      mariadb: z.number().int().min(1).default(7),
      postgres: z.number().int().min(1).default(30),
    })
    .default({mariadb: 7, postgres: 30}),
  /** When set, the preflight's backups check also wants a restore drill (`ctl backup verify`) that passed within this many days. */
  drillMaxAgeDays: z.number().positive().optional(),
  /** Where `ctl backup schedule` writes its cron file on the backup node (`{node}`: the node's name). */
  cronDir: perNodePath.default('/etc/cron.d'),
  /**
   * What runs when, on the backup node (`ctl backup schedule` installs it as a cron file). Seed 003:
   * PostgreSQL daily; e.g. a weekly full and daily differential pgBackRest backups.
   */
  schedule: z
    .array(
      z.strictObject({
        /** pgbackrest: a pgBackRest backup of the Patroni cluster on its repository node. */
        job: z.enum(['pgbackrest']),
        type: z.enum(['full', 'diff', 'incr']).default('full'),
        /** Five cron fields (minute hour day month weekday): digits, `*`, `,`, `-` and `/` only. */
        cron: z.string().regex(/^[0-9*,/-]+( [0-9*,/-]+){4}$/, 'five cron fields (minute hour day-of-month month day-of-week) of digits, *, ",", "-" and "/"'),
      }),
    )
    .default([]),
})

export const deployLock = z.strictObject({
  /** Directory holding ctl's locks (made atomically with mkdir): the deploy lock on the first manager, runbook locks on the cluster's hosts. */
  dir: remotePath.default('/var/lib/ctl/locks'),
  /** A deploy lock whose holder showed no life (taking it, heartbeats) for this long is stale: --force-unlock may break it. */
  staleAfterMinutes: z.number().positive().default(60),
  /** A runbook run lock whose holder sent no heartbeat (every 30 s) for this long is taken over by the next run. */
  runbookStaleAfterMinutes: z.number().positive().default(5),
})
