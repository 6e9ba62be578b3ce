import {z} from './zod.js'
import {durationSeconds, hostAddress, identifier, perNodePath, port, processControl, remotePath, secretRef, textLine} from './common.js'
import {DATABASE_NAME_PATTERN, DATABASE_NAME_RULE} from '../../patroni/database-name.js'

/** A MariaDB Galera cluster: one member per node (seed 000, seed 004). */
/** One mariadbd on a node: how to reach it over its socket and how to start and stop it. */
const mariadbServer = z.strictObject({
  node: identifier,
  /** my.cnf used by `mariadbd --defaults-file` (e.g. for `--wsrep-recover`). */
  defaultsFile: remotePath.optional(),
  datadir: remotePath.default('/var/lib/mysql'),
  socket: remotePath.default('/run/mysqld/mysqld.sock'),
  control: processControl,
})

/**
 * Seed 000's dedicated backup replica: a plain MariaDB async replica of one member (MASTER_USE_GTID),
 * on a node outside the cluster. Backups run there when backupNode names its node or is unset.
 */
const galeraBackupReplica = mariadbServer.extend({
  /** The member it replicates from. */
  source: identifier,
  /** Most seconds behind its source (Seconds_Behind_Master) before the check fails and backups refuse it. */
  maxLagSeconds: durationSeconds.int().nonnegative().default(300),
})

const galera = z.strictObject({
  name: identifier.default('galera'),
  members: z.array(mariadbServer).min(1),
  backupReplica: galeraBackupReplica.optional(),
  /** SQL client credentials; the password is a secret reference. */
  user: textLine.default('root'),
  password: secretRef.optional(),
  /** The node that runs backups (seed 000 keeps a dedicated backup node). */
  backupNode: identifier.optional(),
  backupDir: remotePath.default('/var/backups/ctl/mariadb'),
  /** The database used by the write/read verification after recovery. */
  verifyDatabase: identifier.default('ctl_verify'),
  /** Seconds to wait for a started member to reach Synced (a joiner needing a full SST takes longest). */
  syncTimeoutSeconds: durationSeconds.int().positive().default(600),
})
export type GaleraCluster = z.infer<typeof galera>
export type GaleraMember = GaleraCluster['members'][number]

/**
 * pgBackRest for the Patroni cluster (physical backups, WAL archiving, point-in-time recovery): the
 * repository lives on repoNode (repository-host mode: members push WAL there over SSH as osUser),
 * encrypted with cipherPass (aes-256-cbc; kept only in the repository host's config).
 */
const pgbackrest = z.strictObject({
  /** The stanza (pgBackRest's name for the cluster); default the Patroni scope. */
  stanza: identifier.optional(),
  repoNode: identifier,
  repoPath: remotePath,
  cipherPass: secretRef.optional(),
  /** Full backups kept (pgBackRest expires older ones, and the WAL only they needed). Seed 003: 30 days of dailies. */
  retentionFull: z.number().int().positive().default(2),
  configPath: perNodePath.default('/etc/pgbackrest/pgbackrest.conf'),
  logPath: perNodePath.default('/var/log/pgbackrest'),
  lockPath: perNodePath.default('/tmp/pgbackrest'),
  /** PostgreSQL's archive_timeout: a WAL segment is archived at least this often (the RPO when writes are few). */
  archiveTimeoutSeconds: durationSeconds.int().positive().default(60),
  /** The operating-system user pgBackRest runs as (PostgreSQL's). */
  osUser: identifier.default('postgres'),
  /** Where point-in-time restores go on repoNode: a scratch server per restore, on a socket only. */
  scratchDir: remotePath.default('/var/tmp'),
  scratchPort: port.default(55432),
})
export type PgbackrestSection = z.infer<typeof pgbackrest>

/** A Patroni cluster on etcd (seed 002, seed 004). */
export const patroni = z.strictObject({
  scope: identifier,
  members: z
    .array(
      z.strictObject({
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
  writeEndpoint: z.strictObject({host: hostAddress, port}).optional(),
  /**
   * PgBouncer in front of the leader (seed 001), forwarding to writeEndpoint: patroni-switchover pauses it
   * (PAUSE: clients wait instead of failing) until the write endpoint reaches the new leader, then resumes it.
   */
  pgbouncer: z
    .strictObject({
      node: identifier,
      /** Where clients reach it (default the node's address). */
      host: hostAddress.optional(),
      port: port.default(6432),
      /** A user in PgBouncer's admin_users (default databases.patroni.user), with its password (default databases.patroni.password). */
      adminUser: textLine.optional(),
      adminPassword: secretRef.optional(),
      /** Longest wait for PAUSE (open transactions to end) before the switchover is refused. */
      pauseTimeoutSeconds: durationSeconds.int().positive().default(30),
    })
    .optional(),
  user: textLine.default('postgres'),
  password: secretRef.optional(),
  /** The same rule as every database name ctl hands to psql/pg_dump/pg_restore (never connection settings). */
  database: z.string().regex(DATABASE_NAME_PATTERN, DATABASE_NAME_RULE).default('postgres'),
  /** Dump from a replica where allowed. */
  backupFromReplica: z.boolean().default(true),
  backupDir: remotePath.default('/var/backups/ctl/postgres'),
  /** The node that stores backups; default the member dumped from. */
  backupNode: identifier.optional(),
  pgbackrest: pgbackrest.optional(),
})

/** etcd (seed 002: shared by Patroni and APISIX on the DB nodes). */
const etcd = z.strictObject({
  members: z
    .array(
      z.strictObject({
        node: identifier,
        name: identifier,
        clientPort: port.default(2379),
        peerPort: port.default(2380),
        /** etcd's --data-dir: etcd-member-replace and etcd-restore move it aside and make it anew. */
        dataDir: remotePath.default('/var/lib/etcd'),
        /** How runbooks stop and start the member; `commands` take `--initial-cluster-state=` and `--initial-cluster=` when a member is added back. */
        control: processControl.optional(),
      }),
    )
    .min(1),
  /** etcd's --quota-backend-bytes (its default 2 GiB): the check warns from 80 %, fails from 95 % and on a NOSPACE alarm. */
  quotaBackendBytes: z
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3),
  /** The operating-system user etcd runs as: a restored data directory is made as it. */
  osUser: identifier.default('etcd'),
  /** Where etcd-snapshot keeps snapshots, on backupNode (default the first member's node). */
  backupDir: remotePath.default('/var/backups/ctl/etcd'),
  backupNode: identifier.optional(),
  /** Snapshots etcd-snapshot keeps (older ones are removed after a new one is verified). */
  keepSnapshots: z.number().int().positive().default(7),
})
export type EtcdCluster = z.infer<typeof etcd>

/** Redis with Sentinel (seed 002): one redis-server and one sentinel per member node, the master chosen by the sentinels. */
const redis = z.strictObject({
  /** Sentinel's name for the monitored master (`sentinel monitor <masterName> ...`). */
  masterName: identifier,
  /** The password of redis-server and of the sentinels (requirepass; sent to redis-cli in its environment, never argv). */
  password: secretRef.optional(),
  members: z
    .array(
      z.strictObject({
        node: identifier,
        port: port.default(6379),
        sentinelPort: port.default(26379),
        /** redis-server's `dir`: where redis-recover reads the persistence files (RDB, AOF) of a member that is down. */
        dataDir: remotePath.default('/var/lib/redis'),
        /** How redis-recover starts a member's redis-server (not its sentinel). */
        control: processControl.optional(),
      }),
    )
    .min(1),
  /** Most replication lag (bytes behind the master's offset) a healthy replica or a failover target may have. */
  maxLagBytes: z.number().int().nonnegative().default(1048576),
  /**
   * Where redis-backup keeps RDB snapshots, on backupNode (default the first member's node). Unset: no
   * Redis backups (a pure cache needs none); seed 003 backs Redis up daily and keeps 7 days.
   */
  backupDir: remotePath.optional(),
  /** The node that takes and keeps the backups (redis-cli --rdb from a replica over the network). */
  backupNode: identifier.optional(),
})
export type RedisCluster = z.infer<typeof redis>

/** A RabbitMQ cluster (seed 002: three nodes on the service nodes). */
const rabbitmq = z.strictObject({
  members: z
    .array(
      z.strictObject({
        node: identifier,
        /** The Erlang node name, e.g. `rabbit@mq1` (long names: `rabbit@10.0.0.5`, with longNames). */
        nodeName: z.string().regex(/^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$/, 'an Erlang node name: name@host'),
        /** Its Mnesia directory: `nodes_running_at_shutdown` there says which node stopped last. */
        mnesiaDir: remotePath.optional(),
        /** How rabbitmq-recover starts and stops the node. */
        control: processControl.optional(),
      }),
    )
    .min(1),
  /** The nodes use long names (RABBITMQ_USE_LONGNAME): rabbitmqctl gets --longnames. */
  longNames: z.boolean().default(false),
  /** rabbitmqctl on the members (Debian's wrapper runs it as the rabbitmq user, with that user's cookie). */
  rabbitmqctl: remotePath.default('/usr/sbin/rabbitmqctl'),
  /**
   * Where rabbitmq-backup keeps the cluster's definitions (queues, exchanges, bindings, users, vhosts,
   * policies), on backupNode (default the first member's node). Unset: no definitions backups.
   */
  backupDir: remotePath.optional(),
  backupNode: identifier.optional(),
  /**
   * RabbitMQ's own scripts (rabbitmq-server, rabbitmqctl, not Debian's wrappers that switch user) on the
   * backup node: counts and restore drills import the definitions into a scratch broker started from here.
   */
  serverBinDir: remotePath.default('/usr/lib/rabbitmq/bin'),
})
export type RabbitmqCluster = z.infer<typeof rabbitmq>

export const databases = z.strictObject({
  galera: galera.optional(),
  patroni: patroni.optional(),
  etcd: etcd.optional(),
  redis: redis.optional(),
  rabbitmq: rabbitmq.optional(),
})
