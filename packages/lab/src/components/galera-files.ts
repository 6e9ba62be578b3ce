import type {LabHost} from '../types.js'

/**
 * Files of the lab's Galera members: where each member lives on its lab host, its my.cnf and the
 * control script that inventories/lab.yml names as the member's start/stop/kill/status commands.
 * Measured facts behind the settings: /work/shared/LAB-NOTES.md (Galera).
 */

/** The lab runs Galera on its first three hosts. */
export const GALERA_HOSTS = 3
const GALERA_CLUSTER_NAME = 'ctl-lab'
/** The SQL user ctl connects as; its password is generated into `.lab/` and referenced by lab.yml. */
export const GALERA_USER = 'ctl'
export const GALERA_PASSWORD_FILE = '.lab/galera-password'

export interface GaleraPaths {
  base: string
  datadir: string
  cnf: string
  script: string
  errorLog: string
  outLog: string
  tmpdir: string
  sstLogs: string
  runDir: string
  socket: string
  /** Written by the control script: the pid of the mariadbd it started. */
  pidFile: string
  backups: string
  /** Binary logs (point-in-time restores replay them after a backup): `<binlogs>/mariadb-bin.NNNNNN`. */
  binlogs: string
}

export function galeraPaths(host: LabHost): GaleraPaths {
  return mariadbPaths(host, 'galera')
}

/** Where one mariadbd of a lab host lives: `<stateDir>/<dir>`, its socket under `<runDir>/<dir>`. */
export function mariadbPaths(host: LabHost, dir: string): GaleraPaths {
  const base = `${host.stateDir}/${dir}`
  const runDir = `${host.runDir}/${dir}`
  return {
    base,
    datadir: `${base}/data`,
    cnf: `${base}/my.cnf`,
    script: `${base}/galera-ctl`,
    errorLog: `${base}/mariadbd.err`,
    outLog: `${base}/mariadbd.out`,
    tmpdir: `${base}/tmp`,
    sstLogs: `${base}/sst-logs`,
    runDir,
    socket: `${runDir}/mysqld.sock`,
    pidFile: `${runDir}/ctl-mariadbd.pid`,
    backups: `${host.stateDir}/galera-backups`,
    binlogs: `${base}/binlog`,
  }
}

/**
 * What every lab mariadbd has (a Galera member, the backup replica): its files under `p`, its own
 * address, small buffers, and binary logs of everything it applies (log_slave_updates), which a
 * point-in-time restore replays on top of a backup (ctl runbook mariadb-restore --at).
 */
export function mariadbServerCnf(host: LabHost, p: GaleraPaths, serverId: number, writtenBy: string): string {
  return `# Written by \`ctl lab up\` for lab host ${host.name} (${writtenBy}).
[mysqld]
# mariadbd refuses to run as root without this (the lab has no mysql-owned datadirs).
user=root
datadir=${p.datadir}
socket=${p.socket}
pid-file=${p.runDir}/mariadbd.pid
log_error=${p.errorLog}
tmpdir=${p.tmpdir}
bind-address=${host.address}
port=3306
skip-name-resolve
performance_schema=OFF
innodb_buffer_pool_size=64M
innodb_log_file_size=32M
binlog_format=ROW
log_bin=${p.binlogs}/mariadb-bin
log_slave_updates=ON
server_id=${serverId}
binlog_expire_logs_seconds=604800
default_storage_engine=InnoDB
`
}

export function myCnf(host: LabHost, members: readonly LabHost[]): string {
  const p = galeraPaths(host)
  const a = host.address
  // server_id per member.
  return `${mariadbServerCnf(host, p, host.index, 'packages/lab/src/components/galera-files.ts')}innodb_autoinc_lock_mode=2

wsrep_on=ON
wsrep_provider=/usr/lib/galera/libgalera_smm.so
wsrep_cluster_name=${GALERA_CLUSTER_NAME}
wsrep_cluster_address=gcomm://${members.map((m) => `${m.address}:4567`).join(',')}
wsrep_node_name=${host.name}
wsrep_node_address=${a}
# Every listener on the host's own address (IST defaults to base_port+1 on any address).
wsrep_provider_options="gmcast.listen_addr=tcp://${a}:4567;ist.recv_addr=${a}:4568;gcache.size=64M"
# mariabackup SST works as root over the socket; rsync SST does not (its daemon drops to nobody).
wsrep_sst_method=mariabackup
wsrep_sst_receive_address=${a}:4444

[sst]
sst-log-archive-dir=${p.sstLogs}
`
}

/**
 * The member's control script: `start [mariadbd args...]`, `stop` (SIGTERM, waits), `kill`
 * (SIGKILL), `status` (exit 0 when running). It refuses to start outside the host's namespace.
 */
export function controlScript(host: LabHost, p: GaleraPaths = galeraPaths(host), stopWaitSeconds = 10): string {
  return `#!/bin/sh
# Installed by \`ctl lab up\` (packages/lab/src/components/galera-files.ts): controls mariadbd ${p.base} of lab host ${host.name}.
# inventories/lab.yml names it as this member's start/stop/kill/status commands.
set -u
ADDRESS=${host.address}
CNF=${p.cnf}
PIDFILE=${p.pidFile}
OUT=${p.outLog}
ERRLOG=${p.errorLog}
STOP_WAIT=${stopWaitSeconds}

pid() { cat "$PIDFILE" 2>/dev/null; }
# Running = the pid from our file is alive and is mariadbd with this member's config (a zombie has no cmdline).
running() {
  p=$(pid)
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && tr '\\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "--defaults-file=$CNF"
}
wait_gone() {
  i=0
  while running && [ "$i" -lt "$(($1 * 2))" ]; do sleep 0.5; i=$((i + 1)); done
  ! running
}

case "\${1:-}" in
start)
  shift
  if running; then echo "mariadbd already running (pid $(pid))"; exit 0; fi
  if ! ip -o addr show | grep -q " $ADDRESS/"; then
    echo "refusing to start: $ADDRESS is not an address of this host (wrong network namespace?)" >&2; exit 2
  fi
  mkdir -p "$(dirname "$PIDFILE")" ${p.tmpdir} ${p.sstLogs}
  setsid /usr/sbin/mariadbd --defaults-file="$CNF" "$@" >>"$OUT" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  sleep 1
  if ! running; then
    echo "mariadbd exited at once; end of $ERRLOG:" >&2; tail -n 15 "$ERRLOG" >&2; exit 1
  fi
  echo "started mariadbd (pid $(pid)) $*"
  ;;
stop)
  if ! running; then echo "mariadbd is not running"; exit 0; fi
  kill -TERM "$(pid)"
  if ! wait_gone "$STOP_WAIT"; then
    echo "mariadbd (pid $(pid)) still runs \${STOP_WAIT}s after SIGTERM (a member stuck in non-Primary ignores it)" >&2; exit 1
  fi
  echo "stopped"
  ;;
kill)
  if ! running; then echo "mariadbd is not running"; exit 0; fi
  kill -KILL "$(pid)"
  if ! wait_gone 10; then echo "mariadbd (pid $(pid)) survived SIGKILL" >&2; exit 1; fi
  echo "killed"
  ;;
status)
  if running; then echo "running (pid $(pid))"; exit 0; fi
  echo "stopped"; exit 3
  ;;
*)
  echo "usage: $0 start [mariadbd arguments...] | stop | kill | status" >&2; exit 2
  ;;
esac
`
}
