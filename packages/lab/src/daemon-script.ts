import {quote, shellCommand} from 'ctl/lib/shell.js'

/**
 * The control scripts the lab installs on its hosts for daemons that inventories/lab.yml names as
 * `control` (start/stop/kill/status), so runbooks start and stop the real thing over SSH. Pure.
 */

export interface DaemonScript {
  /** What it controls, for messages. */
  what: string
  pidFile: string
  logFile: string
  /** A word that must be in /proc/<pid>/cmdline, so a reused pid is not taken for ours. */
  processWord: string
  /** Directories created before start: [path, owner]. */
  dirs: [string, string][]
  /** The daemon's argv (runs in the foreground; the script detaches it). */
  argv: string[]
  /** Run as this user with a clean environment and this PATH (no PG* variables reach Patroni); else as root, as started. */
  runAs?: {user: string; home: string; path: string}
  /** More variables of that clean environment (as root: added to the environment it is started with). */
  env?: Record<string, string>
  /** The data directory whose postmaster.pid names PostgreSQL's pid (for `kill`). */
  postgresData?: string
  /** Seconds `stop` waits before giving up. */
  stopWaitSeconds: number
  /**
   * `start --<key>=<value>...` sets these keys of the daemon's YAML config for that start only (a copy
   * beside it), for a daemon that ignores its flags when given a config file (etcd): the argv entry
   * equal to `file` is replaced by the copy. Other arguments are refused.
   */
  startOverrides?: {file: string; keys: string[]; owner: string}
  /** `kill` kills its whole process group (setsid made it one): for a daemon started by a wrapper script (rabbitmq-server). */
  killGroup?: boolean
}

/**
 * A small POSIX sh control script: `start` (detached, idempotent), `stop` (SIGTERM, waits),
 * `kill` (SIGKILL, and PostgreSQL with it, like a crash), `status` (exit 0 running, 3 stopped).
 */
export function renderDaemonScript(d: DaemonScript): string {
  const runAs = d.runAs
    ? `setpriv --reuid=${d.runAs.user} --regid=${d.runAs.user} --init-groups env -i PATH=${d.runAs.path} HOME=${d.runAs.home} LANG=C.UTF-8 ${Object.entries(
        d.env ?? {},
      )
        .map(([k, v]) => `${k}=${quote(v)} `)
        .join('')}`
    : d.env
      ? `env ${Object.entries(d.env)
          .map(([k, v]) => `${k}=${quote(v)} `)
          .join('')}`
      : ''
  const mkdirs = d.dirs.map(([dir, owner]) => `  install -d -m 700 -o ${quote(owner)} -g ${quote(owner)} ${quote(dir)}`).join('\n')
  const pgKill = d.postgresData
    ? [
        `  pm=$(head -n 1 ${quote(`${d.postgresData}/postmaster.pid`)} 2>/dev/null || true)`,
        '  if [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; then',
        '    kids=$(pgrep -P "$pm" || true)',
        '    kill -9 "$pm" $kids 2>/dev/null || true',
        '    echo "postgres (pid $pm) killed"',
        '  fi',
      ].join('\n')
    : ''
  const o = d.startOverrides
  const argv = o ? d.argv.map((a) => (a === o.file ? '\u0000CONF' : a)) : d.argv
  const argvText = shellCommand(argv).replace(quote('\u0000CONF'), '"$CONF"')
  const overrides = o
    ? [
        `  CONF=${quote(o.file)}`,
        '  if [ $# -gt 1 ]; then',
        '    shift',
        `    cp "$CONF" "$CONF.start" && chown ${quote(o.owner)} "$CONF.start" && chmod 600 "$CONF.start" || exit 1`,
        '    for a in "$@"; do',
        '      case $a in',
        ...o.keys.map((k) => `        --${k}=*) k=${k} ;;`),
        '        *) echo "start: unknown argument $a" >&2; exit 2 ;;',
        '      esac',
        '      grep -v "^$k:" "$CONF.start" > "$CONF.tmp" && printf \'%s: %s\\n\' "$k" "${a#*=}" >> "$CONF.tmp" && cat "$CONF.tmp" > "$CONF.start" && rm -f "$CONF.tmp" || exit 1',
        '    done',
        '    CONF=$CONF.start',
        '  fi',
      ].join('\n')
    : ''
  return `#!/bin/sh
# Installed by \`ctl lab up\`: controls ${d.what} on this lab host. Usage: $0 start${o ? ` [${o.keys.map((k) => `--${k}=VALUE`).join(' ')}]` : ''}|stop|kill|status
set -u
PIDFILE=${quote(d.pidFile)}
LOG=${quote(d.logFile)}

pid() { cat "$PIDFILE" 2>/dev/null; }
running() {
  p=$(pid) || return 1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && grep -q ${quote(d.processWord)} "/proc/$p/cmdline" 2>/dev/null
}

case "\${1:-}" in
start)
  if running; then echo "${d.what} already running (pid $(pid))"; exit 0; fi
${mkdirs}
${overrides}
  # Detached from this session, output to its log, environment cleaned; run from / because an SSH
  # session's cwd (/root) is closed to the service user and PostgreSQL's start then hangs.
  cd /
  setsid ${runAs}${argvText} >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  sleep 0.3
  if running; then echo "${d.what} started (pid $(pid))"; else echo "${d.what} failed to start; last lines of $LOG:" >&2; tail -n 20 "$LOG" >&2; exit 1; fi
  ;;
stop)
  if ! running; then echo "${d.what} not running"; rm -f "$PIDFILE"; exit 0; fi
  p=$(pid); kill -TERM "$p"
  i=0
  while kill -0 "$p" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt ${d.stopWaitSeconds * 10} ]; then echo "${d.what} (pid $p) did not stop within ${d.stopWaitSeconds} s; use: $0 kill" >&2; exit 1; fi
    sleep 0.1
  done
  rm -f "$PIDFILE"; echo "${d.what} stopped"
  ;;
kill)
  if running; then p=$(pid); kill -9 ${d.killGroup ? '"-$p"' : '"$p"'}; echo "${d.what} (pid $p) killed"; fi
${pgKill}
  rm -f "$PIDFILE"
  ;;
status)
  if running; then echo "running (pid $(pid))"; else echo stopped; exit 3; fi
  ;;
*)
  echo "usage: $0 start|stop|kill|status" >&2; exit 2
  ;;
esac
`
}
