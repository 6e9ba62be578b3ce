/**
 * The hosts-strategy `legacy` service (seed 001: servers behind a load balancer, no Swarm, reloaded
 * host by host with `pm2 reload`). The lab runs the app's scripts directly in each host's namespace;
 * this script is the inventory's `reloadCommand`: drain and stop this host's server, start the
 * version named in `legacy-version`. It finds its host from its network namespace.
 */
export const LEGACY_PORT = 5080

export function legacyReloadScript(base: string, runDir: string, prefix: string): string {
  return `#!/bin/sh
set -e
ns=$(ip netns identify $$)
host=\${ns#${prefix}-}
[ -n "$host" ] || { echo "not inside a lab host namespace" >&2; exit 2; }
base=${base}
state=${runDir}/$host/legacy
pidfile=$state/server.pid
# Alive and not a zombie (nothing reaps orphans here, and kill -0 succeeds on zombies).
alive() { s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1); [ -n "$s" ] && [ "$s" != Z ]; }
if [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; then
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  while alive "$pid"; do sleep 0.2; done
fi
mkdir -p "$state"
rm -f "$state/fail-health"
version=$(cat "$base/legacy-version" 2>/dev/null || echo v1)
setsid env -i PATH="$base/rootfs/bin:/usr/sbin:/usr/bin:/sbin:/bin" APP_HOME="$base/rootfs/app" APP_STATE="$state" \\
  APP_PORT=${LEGACY_PORT} APP_DRAIN_SECONDS=2 APP_VERSION="$version" APP_TASK="legacy.$host" \\
  sh "$base/rootfs/app/server" </dev/null >"$state/server.log" 2>&1 &
echo $! > "$pidfile"
echo "legacy on $host restarted with $version (pid $!)"
`
}
