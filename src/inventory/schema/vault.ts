import {z} from './zod.js'
import {hostAddress, identifier, localPath, perNodePath, port, remotePath, secretRef} from './common.js'

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

/**
 * Where backups go off the cluster's hosts: S3-compatible storage (the seeds' MinIO). pgBackRest keeps
 * a second repository there (repo2, WAL archived to both) and restic ships mariabackup backups there;
 * both encrypt with encryptionKey before anything leaves the host.
 */
const offsite = z.strictObject({
  s3: z.strictObject({
    /** Host name or IP address of the S3 endpoint (path-style requests: bucket in the path). */
    endpoint: hostAddress,
    port: port.default(443),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (lowercase letters, digits, "." and "-", 3-63 characters)'),
    region: z
      .string()
      .regex(/^[a-z0-9-]+$/, 'a region such as us-east-1')
      .default('us-east-1'),
    accessKeyId: secretRef,
    secretAccessKey: secretRef,
    /** CA bundle on the nodes that verifies the endpoint's certificate (TLS is always verified). */
    caFile: remotePath.optional(),
  }),
  /** The key every offsite copy is encrypted with (pgBackRest aes-256-cbc, restic's repository password). Losing it loses the backups. */
  encryptionKey: secretRef,
  /** Key prefixes in the bucket. */
  pgbackrestPath: remotePath.default('/pgbackrest'),
  resticPath: remotePath.default('/restic'),
  /** Full backups pgBackRest keeps offsite. */
  pgbackrestRetentionFull: z.number().int().positive().default(4),
  /** The newest offsite copy of each database must be younger than this (the preflight's backups-offsite check); default backups.rpoHours. */
  rpoHours: z.number().positive().optional(),
})

export const backups = z.strictObject({
  offsite: offsite.optional(),
  /** Recovery point objective: the newest backup must be younger than this. */
  rpoHours: z.number().positive().default(24),
  /** Restore points `ctl backup prune` keeps per database (seed 003: PostgreSQL 30 days of daily backups). At least one. */
  keep: z
    .strictObject({
      mariadb: z.number().int().min(1).default(7),
      postgres: z.number().int().min(1).default(30),
      /** Seed 003: Redis daily, 7 days. */
      redis: z.number().int().min(1).default(7),
      rabbitmq: z.number().int().min(1).default(7),
    })
    .default({mariadb: 7, postgres: 30, redis: 7, rabbitmq: 7}),
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
        /**
         * pgbackrest: a pgBackRest backup of the Patroni cluster on its repository node; mariadb: a
         * mariabackup backup on the Galera backup node (shipped offsite with backups.offsite);
         * mariadb-binlogs: its binary logs into the archive (and offsite), for point-in-time restores;
         * redis: an RDB snapshot on the Redis backup node; rabbitmq-definitions: the RabbitMQ cluster's
         * definitions on its backup node (a member: the job runs rabbitmqctl there).
         */
        job: z.enum(['pgbackrest', 'mariadb', 'mariadb-binlogs', 'redis', 'rabbitmq-definitions']),
        /** pgbackrest only. */
        type: z.enum(['full', 'diff', 'incr']).default('full'),
        /** pgbackrest only: into the repository node's repository, or the offsite one (backups.offsite). */
        repo: z.enum(['local', 'offsite']).default('local'),
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
