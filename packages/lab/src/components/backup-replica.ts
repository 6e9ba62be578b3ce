import {existsSync, mkdirSync, readFileSync, renameSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {CtlError, ExitCode} from 'ctl/lib/errors.js'
import {runLocal} from 'ctl/lib/local.js'
import {parseReplicaStatus, REPLICA_STATUS_SQL, type ReplicaStatus} from 'ctl/galera/replica.js'
import {waitFor} from '../daemon.js'
import {ensureLabPassword, writeIfChanged} from '../lab-files.js'
import {labBackupHost, labHost, type LabComponent, type LabContext, type LabHost, type LabStatusRow} from '../types.js'
import {parseBinlogInfoGtid, REPLICATION_PASSWORD_FILE, REPLICATION_USER, replicaCnf, replicaPaths, sqlString} from './backup-replica-files.js'
import {controlScript, galeraPaths} from './galera-files.js'
import {labControl, labWsrepStatus, localSql} from './galera.js'

/**
 * The backup host's MariaDB async replica of the Galera cluster (seed 000). `up` seeds it the way an
 * operator would: a mariabackup of the source member (h1), prepared, its GTID position as
 * gtid_slave_pos, CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos; then it keeps it replicating
 * (START SLAVE, no delay), and seeds it again when its replication broke beyond that.
 */

/** The Galera member it replicates from (inventories/lab.yml names the same). */
const SOURCE_INDEX = 1

function sourceHost(ctx: LabContext): LabHost {
  return labHost(SOURCE_INDEX, ctx.instance)
}

const control = (host: LabHost, action: 'start' | 'stop' | 'kill' | 'status') => labControl(host, action, [], replicaPaths(host))

/** SQL as root over the replica's socket, with column names (SHOW ALL SLAVES STATUS is read by name). */
const replicaSql = (host: LabHost, sql: string, check = true) => localSql(replicaPaths(host).socket, sql, {check, columnNames: true})

async function labReplicaStatus(host: LabHost): Promise<ReplicaStatus | undefined> {
  const r = await replicaSql(host, `${REPLICA_STATUS_SQL}\n`, false)
  return r.code === 0 ? parseReplicaStatus(r.stdout) : undefined
}

function replicating(s: ReplicaStatus | undefined): boolean {
  return s?.ioRunning === 'Yes' && s.sqlRunning === 'Yes' && s.sqlDelaySeconds === 0
}

async function start(host: LabHost): Promise<void> {
  const r = await control(host, 'start')
  if (r.code !== 0)
    throw new CtlError(`backup-replica: cannot start mariadbd on ${host.name}: ${(r.stderr || r.stdout).trim()}`, {
      host: host.name,
      code: 'lab.backup-replica',
      hint: `Read ${replicaPaths(host).errorLog}`,
    })
  if (!(await waitFor(async () => (await replicaSql(host, 'SELECT 1;\n', false)).code === 0, 60_000, 300)))
    throw new CtlError(`backup-replica: mariadbd on ${host.name} does not answer SQL`, {host: host.name, hint: `Read ${replicaPaths(host).errorLog}`})
}

/** The replication user on the Galera cluster (through the source member; Galera copies it to all). */
async function ensureReplicationUser(ctx: LabContext, replica: LabHost, password: string): Promise<void> {
  const user = `${sqlString(REPLICATION_USER)}@${sqlString(replica.address)}`
  await localSql(
    galeraPaths(sourceHost(ctx)).socket,
    `CREATE USER IF NOT EXISTS ${user} IDENTIFIED BY ${sqlString(password)};\nALTER USER ${user} IDENTIFIED BY ${sqlString(password)};\nGRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ${user};\n`,
  )
}

/** A new replica: a prepared mariabackup of the source member becomes its datadir, then replication from that GTID. */
async function seed(ctx: LabContext, replica: LabHost, password: string): Promise<void> {
  const source = sourceHost(ctx)
  const p = replicaPaths(replica)
  const staging = `${p.base}/seed`
  rmSync(staging, {recursive: true, force: true})
  ctx.log(`backup-replica: seeding ${replica.name} from a backup of ${source.name}`)
  const sp = galeraPaths(source)
  await runLocal(['mariabackup', `--defaults-file=${sp.cnf}`, '--backup', `--socket=${sp.socket}`, '--user=root', `--target-dir=${staging}`], {
    timeoutMs: 600_000,
  })
  await runLocal(['mariabackup', '--prepare', `--target-dir=${staging}`], {timeoutMs: 600_000})
  const gtid = parseBinlogInfoGtid(readFileSync(join(staging, 'xtrabackup_binlog_info'), 'utf8'))
  if (!gtid) throw new CtlError(`backup-replica: the backup of ${source.name} has no GTID position (xtrabackup_binlog_info)`, {host: source.name})
  rmSync(p.datadir, {recursive: true, force: true})
  renameSync(staging, p.datadir)
  await start(replica)
  await replicaSql(
    replica,
    [
      'STOP SLAVE;',
      'RESET SLAVE ALL;',
      `SET GLOBAL gtid_slave_pos = ${sqlString(gtid)};`,
      `CHANGE MASTER TO MASTER_HOST=${sqlString(source.address)}, MASTER_PORT=3306, MASTER_USER=${sqlString(REPLICATION_USER)}, MASTER_PASSWORD=${sqlString(password)}, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=5;`,
      'START SLAVE;',
      '',
    ].join('\n'),
  )
}

async function waitReplicating(replica: LabHost, timeoutMs: number): Promise<ReplicaStatus | undefined> {
  let last: ReplicaStatus | undefined
  await waitFor(async () => replicating((last = await labReplicaStatus(replica))) && last?.secondsBehind === 0, timeoutMs, 300)
  return last
}

async function up(ctx: LabContext): Promise<void> {
  const replica = labBackupHost(ctx)
  if (!replica) return ctx.log('backup-replica: only in the shared 3-host lab (inventories/lab.yml)')
  const source = await labWsrepStatus(sourceHost(ctx))
  if (source?.localState !== 'Synced')
    throw new CtlError(`backup-replica: its source ${sourceHost(ctx).name} is not a Synced Galera member`, {
      exitCode: ExitCode.cannotRun,
      hint: 'Run ctl lab up --only galera first.',
    })
  const p = replicaPaths(replica)
  for (const dir of [p.base, p.tmpdir, p.runDir, p.binlogs, `${p.base}/relay`, p.backups]) mkdirSync(dir, {recursive: true, mode: 0o700})
  writeIfChanged(p.cnf, replicaCnf(replica), 0o644)
  writeIfChanged(p.script, controlScript(replica, p), 0o755)
  const password = ensureLabPassword(join(ctx.projectRoot, REPLICATION_PASSWORD_FILE))
  await ensureReplicationUser(ctx, replica, password)
  if (!existsSync(join(p.datadir, 'mysql'))) await seed(ctx, replica, password)
  else {
    await start(replica)
    const status = await labReplicaStatus(replica)
    // An SQL error, or an IO thread that gave up (e.g. its position is gone from the source's binary
    // logs), needs a new seed; a stopped or delayed replication only a restart.
    const broken = !status?.configured || status.lastSqlError || (status.ioRunning === 'No' && status.lastIoError)
    if (broken) {
      ctx.log(`backup-replica: replication on ${replica.name} is broken (${status?.lastSqlError ?? status?.lastIoError ?? 'not configured'}): seeding it again`)
      await control(replica, 'stop')
      await seed(ctx, replica, password)
    } else if (!replicating(status)) {
      ctx.log(`backup-replica: restarting replication on ${replica.name}`)
      await replicaSql(replica, 'STOP SLAVE;\nCHANGE MASTER TO MASTER_DELAY=0;\nSTART SLAVE;\n')
    }
  }
  const last = await waitReplicating(replica, 120_000)
  if (!replicating(last) || last?.secondsBehind !== 0)
    throw new CtlError(`backup-replica: ${replica.name} does not catch up with ${sourceHost(ctx).name}`, {
      host: replica.name,
      code: 'lab.backup-replica',
      hint: `SHOW SLAVE STATUS said: IO ${last?.ioRunning}, SQL ${last?.sqlRunning}, ${last?.secondsBehind} s behind ${last?.lastIoError ?? last?.lastSqlError ?? ''}; read ${p.errorLog}`,
    })
  ctx.log(`backup-replica: ${replica.name} replicating from ${sourceHost(ctx).name}, GTID ${last.gtidSlavePos}`)
}

function breakTarget(ctx: LabContext, scenario: string): LabHost {
  const replica = labBackupHost(ctx)
  if (!replica) throw new CtlError(`${scenario}: only in the shared 3-host lab`, {exitCode: ExitCode.cannotRun})
  return replica
}

export const backupReplicaComponent: LabComponent = {
  name: 'backup-replica',
  packages: ['mariadb-server', 'mariadb-client', 'mariadb-backup'],
  up,

  async down(ctx) {
    const replica = labBackupHost(ctx)
    if (!replica || !existsSync(replicaPaths(replica).script)) return
    ctx.log(`backup-replica: stopping mariadbd on ${replica.name}`)
    if ((await control(replica, 'stop')).code !== 0) await control(replica, 'kill')
  },

  async status(ctx) {
    const replica = labBackupHost(ctx)
    if (!replica) return []
    const row = (ok: boolean, detail: string): LabStatusRow[] => [{component: 'backup-replica', host: replica.name, ok, detail}]
    if (!existsSync(replicaPaths(replica).script) || (await control(replica, 'status')).code !== 0) return row(false, 'mariadbd not running')
    const s = await labReplicaStatus(replica)
    if (!s) return row(false, 'mariadbd runs but does not answer SQL')
    return row(
      replicating(s),
      `from ${s.source ?? '?'}: IO ${s.ioRunning}, SQL ${s.sqlRunning}, ${s.secondsBehind ?? '?'} s behind${s.sqlDelaySeconds ? `, delay ${s.sqlDelaySeconds} s` : ''}`,
    )
  },

  breaks: [
    {
      name: 'backup-replica-stopped',
      summary: "STOP SLAVE on the backup host's MariaDB replica: it stops following the Galera cluster",
      async run(ctx) {
        const replica = breakTarget(ctx, 'backup-replica-stopped')
        await replicaSql(replica, 'STOP SLAVE;\n')
        return `backup-replica: replication stopped on ${replica.name}. ctl check run lab galera-replica fails; ctl lab up starts it again.`
      },
    },
    {
      name: 'backup-replica-lag',
      summary: 'The replica applies every change one hour late (MASTER_DELAY=3600): it lags behind from the next write on',
      async run(ctx) {
        const replica = breakTarget(ctx, 'backup-replica-lag')
        await replicaSql(replica, 'STOP SLAVE;\nCHANGE MASTER TO MASTER_DELAY=3600;\nSTART SLAVE;\n')
        return `backup-replica: ${replica.name} now applies changes 3600 s late. ctl lab up removes the delay.`
      },
    },
  ],
}
