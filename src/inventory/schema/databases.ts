import {z} from 'zod'
import {identifier, port, processControl, secretRef} from './common.js'
import {DATABASE_NAME_PATTERN, DATABASE_NAME_RULE} from '../../patroni/database-name.js'

/** A MariaDB Galera cluster: one member per node (seed 000, seed 004). */
export const galera = z.object({
  name: identifier.default('galera'),
  members: z
    .array(
      z.object({
        node: identifier,
        /** my.cnf used by `mariadbd --defaults-file` (e.g. for `--wsrep-recover`). */
        defaultsFile: z.string().optional(),
        datadir: z.string().default('/var/lib/mysql'),
        socket: z.string().default('/run/mysqld/mysqld.sock'),
        control: processControl,
      }),
    )
    .min(1),
  /** SQL client credentials; the password is a secret reference. */
  user: z.string().default('root'),
  password: secretRef.optional(),
  /** The node that runs backups (seed 000 keeps a dedicated backup node). */
  backupNode: identifier.optional(),
  backupDir: z.string().default('/var/backups/ctl/mariadb'),
  /** The database used by the write/read verification after recovery. */
  verifyDatabase: identifier.default('ctl_verify'),
  /** Seconds to wait for a started member to reach Synced (a joiner needing a full SST takes longest). */
  syncTimeoutSeconds: z.number().int().positive().default(600),
})
export type GaleraCluster = z.infer<typeof galera>
export type GaleraMember = GaleraCluster['members'][number]

/** A Patroni cluster on etcd (seed 002, seed 004). */
export const patroni = z.object({
  scope: identifier,
  members: z
    .array(
      z.object({
        node: identifier,
        /** Patroni member name. */
        name: identifier,
        restPort: port.default(8008),
        pgPort: port.default(5432),
        control: processControl.optional(),
      }),
    )
    .min(1),
  /** Most replication lag (bytes) a switchover candidate may have. */
  maxLagBytes: z.number().int().nonnegative().default(1048576),
  /** The write endpoint apps use (HAProxy/PgBouncer, seed 004): must reach the leader after a switchover. */
  writeEndpoint: z.object({host: z.string(), port}).optional(),
  user: z.string().default('postgres'),
  password: secretRef.optional(),
  /** The same rule as every database name ctl hands to psql/pg_dump/pg_restore (never connection settings). */
  database: z.string().regex(DATABASE_NAME_PATTERN, DATABASE_NAME_RULE).default('postgres'),
  /** Dump from a replica where allowed. */
  backupFromReplica: z.boolean().default(true),
  backupDir: z.string().default('/var/backups/ctl/postgres'),
  /** The node that stores backups; default the member dumped from. */
  backupNode: identifier.optional(),
})

export const etcd = z.object({
  members: z.array(z.object({node: identifier, name: identifier, clientPort: port.default(2379)})).min(1),
})

export const databases = z.object({
  galera: galera.optional(),
  patroni: patroni.optional(),
  etcd: etcd.optional(),
})
