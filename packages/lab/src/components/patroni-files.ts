import {renderDaemonScript} from '../daemon-script.js'
import type {LabHost} from '../types.js'

/**
 * What the lab installs for etcd and Patroni on each lab host: configs and the control scripts that
 * inventories/lab.yml names as `control` (start/stop/kill/status), so runbooks drive the real thing.
 * Pure text renderers: the component writes them, the unit tests read them.
 */

export const PATRONI_SCOPE = 'ctl-lab'
export const ETCD_CLIENT_PORT = 2379
const ETCD_PEER_PORT = 2380
export const PATRONI_REST_PORT = 8008
export const PG_PORT = 5432
/** HAProxy in front of the cluster (seed 004): routes to whichever member answers /primary. */
export const PG_WRITE_PORT = 5000
/** PgBouncer in front of the write endpoint (seed 001), on the endpoint's host. */
const PGBOUNCER_PORT = 6432
export const PG_SUPERUSER = 'postgres'
const PG_REPLICATION_USER = 'replicator'
/** PostgreSQL refuses to run as root; etcd and Patroni run as this user (LAB-NOTES). */
export const SERVICE_USER = 'postgres'
const PG_BIN_DIR = '/usr/lib/postgresql/15/bin'
/** The service user's clean environment: no PG* variables reach Patroni. */
const AS_SERVICE_USER = {user: SERVICE_USER, home: '/var/lib/postgresql', path: `${PG_BIN_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`}

export interface LabPgPasswords {
  superuser: string
  replication: string
}

/** Where a lab host keeps its etcd and Patroni files. */
export interface PatroniLabPaths {
  etcdDir: string
  etcdData: string
  etcdConfig: string
  etcdLog: string
  etcdPid: string
  patroniDir: string
  patroniData: string
  patroniConfig: string
  patroniLog: string
  patroniPid: string
  pgpass: string
  socketDir: string
  binDir: string
  etcdScript: string
  pgbouncerDir: string
  pgbouncerConfig: string
  pgbouncerUsers: string
  pgbouncerPid: string
  pgbouncerScript: string
  patroniScript: string
  haproxyConfig: string
  haproxyPid: string
  haproxyScript: string
  /** pgBackRest's config, log and lock directories (and on h3 the repository): inventories/lab.yml's pgbackrest paths. */
  pgbackrestDir: string
  pgbackrestConfig: string
}

export function patroniLabPaths(host: LabHost): PatroniLabPaths {
  const etcdDir = `${host.stateDir}/etcd`
  const patroniDir = `${host.stateDir}/patroni`
  const binDir = `${host.stateDir}/bin`
  return {
    etcdDir,
    etcdData: `${etcdDir}/data`,
    etcdConfig: `${etcdDir}/etcd.yml`,
    etcdLog: `${etcdDir}/etcd.log`,
    etcdPid: `${host.runDir}/etcd.pid`,
    patroniDir,
    patroniData: `${patroniDir}/data`,
    patroniConfig: `${patroniDir}/patroni.yml`,
    patroniLog: `${patroniDir}/patroni.log`,
    patroniPid: `${host.runDir}/patroni.pid`,
    pgpass: `${patroniDir}/pgpass`,
    socketDir: `${host.runDir}/postgresql`,
    binDir,
    etcdScript: `${binDir}/ctl-lab-etcd`,
    patroniScript: `${binDir}/ctl-lab-patroni`,
    haproxyConfig: `${patroniDir}/haproxy-pg.cfg`,
    haproxyPid: `${host.runDir}/haproxy-pg.pid`,
    haproxyScript: `${binDir}/ctl-lab-haproxy-pg`,
    pgbouncerDir: `${host.stateDir}/pgbouncer`,
    pgbouncerConfig: `${host.stateDir}/pgbouncer/pgbouncer.ini`,
    pgbouncerUsers: `${host.stateDir}/pgbouncer/userlist.txt`,
    pgbouncerPid: `${host.runDir}/pgbouncer.pid`,
    pgbouncerScript: `${binDir}/ctl-lab-pgbouncer`,
    pgbackrestDir: `${host.stateDir}/pgbackrest`,
    pgbackrestConfig: `${host.stateDir}/pgbackrest/pgbackrest.conf`,
  }
}

const etcdMemberName = (host: LabHost): string => `etcd-${host.name}`
export const patroniMemberName = (host: LabHost): string => `pg-${host.name}`

/** The subnet of the lab hosts, for pg_hba: 198.18.0.11 → 198.18.0.0/24. */
function labSubnet(host: LabHost): string {
  return `${host.address.split('.').slice(0, 3).join('.')}.0/24`
}

export function renderEtcdConfig(host: LabHost, members: LabHost[]): string {
  const paths = patroniLabPaths(host)
  const cluster = members.map((m) => `${etcdMemberName(m)}=http://${m.address}:${ETCD_PEER_PORT}`).join(',')
  return [
    `# Written by \`ctl lab up\` for ${host.name}.`,
    `name: ${etcdMemberName(host)}`,
    `data-dir: ${paths.etcdData}`,
    `listen-client-urls: http://${host.address}:${ETCD_CLIENT_PORT},http://127.0.0.1:${ETCD_CLIENT_PORT}`,
    `advertise-client-urls: http://${host.address}:${ETCD_CLIENT_PORT}`,
    `listen-peer-urls: http://${host.address}:${ETCD_PEER_PORT}`,
    `initial-advertise-peer-urls: http://${host.address}:${ETCD_PEER_PORT}`,
    `initial-cluster: ${cluster}`,
    `initial-cluster-token: ${PATRONI_SCOPE}-etcd`,
    `initial-cluster-state: new`,
    // With --config-file, etcd 3.4 leaves unset options at zero values: Patroni's etcd3 needs the gateway.
    `enable-grpc-gateway: true`,
    // Small lab: short heartbeats keep a 3-member cluster healthy in ~2 s.
    `heartbeat-interval: 100`,
    `election-timeout: 1000`,
    '',
  ].join('\n')
}

/** JSON is valid YAML: the config is built as data, so passwords need no YAML escaping. */
export function renderPatroniConfig(host: LabHost, members: LabHost[], passwords: LabPgPasswords): string {
  const paths = patroniLabPaths(host)
  const subnet = labSubnet(host)
  const config = {
    scope: PATRONI_SCOPE,
    namespace: '/service/',
    name: patroniMemberName(host),
    log: {level: 'INFO'},
    restapi: {listen: `${host.address}:${PATRONI_REST_PORT}`, connect_address: `${host.address}:${PATRONI_REST_PORT}`},
    etcd3: {hosts: members.map((m) => `${m.address}:${ETCD_CLIENT_PORT}`)},
    bootstrap: {
      // ttl 10 / loop_wait 1 / retry_timeout 3: fast elections in the lab (LAB-NOTES).
      dcs: {
        ttl: 10,
        loop_wait: 1,
        retry_timeout: 3,
        maximum_lag_on_failover: 1048576,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          // max_connections is cluster-wide (replicas need at least the leader's): it lives in the DCS.
          parameters: {wal_level: 'replica', hot_standby: 'on', max_connections: 50, max_wal_senders: 10, max_replication_slots: 10, wal_log_hints: 'on'},
        },
      },
      initdb: [{encoding: 'UTF8'}, {locale: 'C.UTF-8'}, 'data-checksums'],
    },
    postgresql: {
      listen: `${host.address}:${PG_PORT}`,
      connect_address: `${host.address}:${PG_PORT}`,
      data_dir: paths.patroniData,
      bin_dir: PG_BIN_DIR,
      pgpass: paths.pgpass,
      // A killed leader comes back as a replica even when its timeline diverged.
      remove_data_directory_on_rewind_failure: true,
      remove_data_directory_on_diverged_timelines: true,
      basebackup: [{checkpoint: 'fast'}],
      authentication: {
        superuser: {username: PG_SUPERUSER, password: passwords.superuser},
        replication: {username: PG_REPLICATION_USER, password: passwords.replication},
      },
      parameters: {
        // Each lab host has its own socket directory: the hosts share one filesystem.
        unix_socket_directories: paths.socketDir,
        shared_buffers: '32MB',
      },
      pg_hba: [
        'local all all peer',
        `host replication ${PG_REPLICATION_USER} ${subnet} scram-sha-256`,
        `host all all ${subnet} scram-sha-256`,
        'host all all 127.0.0.1/32 scram-sha-256',
      ],
    },
    tags: {nofailover: false, noloadbalance: false, clonefrom: false, nosync: false},
  }
  return `# Written by \`ctl lab up\` for ${host.name} (mode 0600: it holds the lab passwords).\n${JSON.stringify(config, null, 2)}\n`
}

/** HAProxy as the write endpoint: sends connections to the member whose REST API answers 200 on /primary. */
export function renderHaproxyConfig(host: LabHost, members: LabHost[]): string {
  const paths = patroniLabPaths(host)
  return [
    `# Written by \`ctl lab up\`: the lab's PostgreSQL write endpoint (seed 004: HAProxy in front of Patroni).`,
    'global',
    '  maxconn 200',
    `  pidfile ${paths.haproxyPid}`,
    'defaults',
    '  mode tcp',
    '  timeout connect 3s',
    '  timeout client 30m',
    '  timeout server 30m',
    '  timeout check 2s',
    'listen postgres_write',
    `  bind ${host.address}:${PG_WRITE_PORT}`,
    '  option httpchk GET /primary',
    '  http-check expect status 200',
    // Fast checks: the endpoint follows a switchover within about a second.
    '  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions',
    ...members.map((m) => `  server ${patroniMemberName(m)} ${m.address}:${PG_PORT} check port ${PATRONI_REST_PORT}`),
    '',
  ].join('\n')
}

export function etcdScript(host: LabHost): string {
  const p = patroniLabPaths(host)
  return renderDaemonScript({
    what: 'etcd',
    pidFile: p.etcdPid,
    logFile: p.etcdLog,
    processWord: 'etcd',
    dirs: [
      [p.etcdDir, SERVICE_USER],
      [p.etcdData, SERVICE_USER],
    ],
    argv: ['etcd', '--config-file', p.etcdConfig],
    runAs: AS_SERVICE_USER,
    stopWaitSeconds: 20,
    // A member added back (etcd-member-replace, etcd-restore) starts with the cluster as it is now.
    startOverrides: {file: p.etcdConfig, keys: ['initial-cluster-state', 'initial-cluster'], owner: SERVICE_USER},
  })
}

export function patroniScript(host: LabHost): string {
  const p = patroniLabPaths(host)
  return renderDaemonScript({
    what: 'patroni',
    pidFile: p.patroniPid,
    logFile: p.patroniLog,
    processWord: 'patroni',
    dirs: [
      [p.patroniDir, SERVICE_USER],
      [p.socketDir, SERVICE_USER],
    ],
    argv: ['patroni', p.patroniConfig],
    runAs: AS_SERVICE_USER,
    // archive_command is cluster-wide (in the DCS) and the lab's hosts share one /etc: each host's
    // pgBackRest finds its own config through the environment PostgreSQL inherits from Patroni.
    env: {PGBACKREST_CONFIG: p.pgbackrestConfig},
    postgresData: p.patroniData,
    stopWaitSeconds: 60,
  })
}

export function haproxyScript(host: LabHost): string {
  const p = patroniLabPaths(host)
  return renderDaemonScript({
    what: 'haproxy (postgres write endpoint)',
    pidFile: p.haproxyPid,
    logFile: `${p.patroniDir}/haproxy-pg.log`,
    processWord: 'haproxy',
    dirs: [],
    // -db: stay in the foreground, so the script's pid file names it.
    argv: ['haproxy', '-db', '-f', p.haproxyConfig],
    stopWaitSeconds: 10,
  })
}

/**
 * PgBouncer (seed 001) on the endpoint's host: every database forwarded to the HAProxy write endpoint
 * (which follows the leader), transaction pooling (PAUSE then waits for transactions, not for clients
 * to leave), SCRAM to clients and to PostgreSQL from the plain password in its user list (0600),
 * the superuser its admin (PAUSE/RESUME for patroni-switchover).
 */
export function renderPgbouncerConfig(host: LabHost): string {
  const p = patroniLabPaths(host)
  return [
    `; Written by \`ctl lab up\` for ${host.name}.`,
    '[databases]',
    `* = host=${host.address} port=${PG_WRITE_PORT}`,
    '[pgbouncer]',
    `listen_addr = ${host.address}`,
    `listen_port = ${PGBOUNCER_PORT}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${p.pgbouncerUsers}`,
    `admin_users = ${PG_SUPERUSER}`,
    'pool_mode = transaction',
    'max_client_conn = 200',
    'default_pool_size = 20',
    `logfile = ${p.pgbouncerDir}/pgbouncer.log`,
    '',
  ].join('\n')
}

/** PgBouncer's user list: `"user" "password"`, double quotes doubled. */
export function renderPgbouncerUsers(passwords: LabPgPasswords): string {
  const q = (v: string) => `"${v.replaceAll('"', '""')}"`
  return `${q(PG_SUPERUSER)} ${q(passwords.superuser)}\n`
}

export function pgbouncerScript(host: LabHost): string {
  const p = patroniLabPaths(host)
  return renderDaemonScript({
    what: 'pgbouncer',
    pidFile: p.pgbouncerPid,
    logFile: `${p.pgbouncerDir}/pgbouncer.out`,
    processWord: 'pgbouncer',
    dirs: [[p.pgbouncerDir, SERVICE_USER]],
    // PgBouncer refuses to run as root; it stays in the foreground without -d.
    argv: ['pgbouncer', p.pgbouncerConfig],
    runAs: AS_SERVICE_USER,
    stopWaitSeconds: 10,
  })
}
