import {galeraBackupNode} from '../galera/cluster.js'
import type {Inventory} from '../inventory/schema/index.js'
import {nodePath} from '../inventory/schema/common.js'
import {mariadbResticRepo, type ResticRepo} from './restic.js'

/** Where one database's backups are kept: the directory the backup runbooks write, on these nodes. */
export interface BackupLocation {
  /** mariabackup directories, pg_dump archives, or a pgBackRest repository (listed by `pgbackrest info`). */
  database: 'mariadb' | 'postgres' | 'pgbackrest' | 'redis' | 'rabbitmq'
  dir: string
  /** The backup node, else every member (the runbook dumps from whichever member it picks). */
  nodes: string[]
  runbook: string
  /** pgBackRest: how to ask the repository node (its config, the stanza, the user it runs as), and where its drills restore to. */
  pgbackrest?: PgbackrestRepoAccess
  /** Offsite mariabackup backups: the restic repository (reached from the backup node) and where drill records are kept on that node. */
  restic?: {repo: ResticRepo; drillDir: string}
  /** RabbitMQ: the backup node's RabbitMQ scripts (counts and drills start a scratch broker). */
  serverBinDir?: string
}

export interface PgbackrestRepoAccess {
  config: string
  stanza: string
  osUser: string
  repoPath: string
  scratchDir: string
  scratchPort: number
  /** The offsite repository (repo2) as `s3://bucket/path`, when there is one. */
  offsite?: string
}

export function backupLocations(inventory: Inventory): BackupLocation[] {
  const out: BackupLocation[] = []
  const {galera, patroni} = inventory.databases
  if (galera)
    out.push({
      database: 'mariadb',
      dir: galera.backupDir,
      nodes: galera.backupNode || galera.backupReplica ? [galeraBackupNode(galera)] : galera.members.map((m) => m.node),
      runbook: 'mariadb-backup',
    })
  const restic = mariadbResticRepo(inventory)
  if (galera && restic)
    out.push({
      database: 'mariadb',
      dir: restic.where,
      nodes: [galeraBackupNode(galera)],
      runbook: 'mariadb-backup',
      restic: {repo: restic, drillDir: `${galera.backupDir}/ctl-offsite-drills`},
    })
  if (patroni)
    out.push({
      database: 'postgres',
      dir: patroni.backupDir,
      nodes: patroni.backupNode ? [patroni.backupNode] : patroni.members.map((m) => m.node),
      runbook: 'pg-backup',
    })
  const repo = patroni?.pgbackrest
  if (patroni && repo) {
    const stanza = repo.stanza ?? patroni.scope
    out.push({
      database: 'pgbackrest',
      dir: `${repo.repoPath}/backup/${stanza}`,
      nodes: [repo.repoNode],
      runbook: 'pgbackrest-backup',
      pgbackrest: {
        config: nodePath(repo.configPath, repo.repoNode),
        stanza,
        osUser: repo.osUser,
        repoPath: repo.repoPath,
        scratchDir: repo.scratchDir,
        scratchPort: repo.scratchPort,
        ...(inventory.backups.offsite ? {offsite: `s3://${inventory.backups.offsite.s3.bucket}${inventory.backups.offsite.pgbackrestPath}`} : {}),
      },
    })
  }
  const {redis, rabbitmq} = inventory.databases
  if (redis?.backupDir) out.push({database: 'redis', dir: redis.backupDir, nodes: [redis.backupNode ?? redis.members[0]!.node], runbook: 'redis-backup'})
  if (rabbitmq?.backupDir)
    out.push({
      database: 'rabbitmq',
      dir: rabbitmq.backupDir,
      nodes: [rabbitmq.backupNode ?? rabbitmq.members[0]!.node],
      runbook: 'rabbitmq-backup',
      serverBinDir: rabbitmq.serverBinDir,
    })
  return out
}

/** The locations on the cluster's own nodes (not the offsite copies, which need the offsite keys to list). */
export function localBackupLocations(inventory: Inventory): BackupLocation[] {
  return backupLocations(inventory).filter((l) => !l.restic)
}
