/**
 * The lab's `app`: busybox `nc -ll -e` serving a tiny shell handler, imported as an image with
 * `docker import` (no registry here). `/health` answers 200 with a JSON body naming the version,
 * 503 when told to fail (a `fail-health` file, or APP_HEALTH=fail baked into the `broken` tag), and
 * 503 while draining: on SIGTERM it keeps serving but reports unhealthy for APP_DRAIN_SECONDS so the
 * load balancer takes it out before it exits (zero failed requests during rollouts).
 * The same scripts run outside Docker as the hosts-strategy `legacy` service (seed 001's servers).
 */

/** PID 1 of the container (or the legacy server): starts the listener and drains on SIGTERM. */
export const SERVER_SCRIPT = `#!/bin/sh
home=\${APP_HOME:-/app}
state=\${APP_STATE:-/tmp}
mkdir -p "$state"
rm -f "$state/draining"
nc -ll -p "\${APP_PORT:-8080}" -e "$home/handle" &
listener=$!
drain() {
  touch "$state/draining"
  sleep "\${APP_DRAIN_SECONDS:-3}"
  kill "$listener" 2>/dev/null
  exit 0
}
trap drain TERM INT
wait "$listener"
`

/** One HTTP exchange on stdin/stdout (HTTP/1.0, connection closed after the answer). */
export const HANDLER_SCRIPT = `#!/bin/sh
state=\${APP_STATE:-/tmp}
cr=$(printf '\\r')
read -r method target proto
while IFS= read -r line; do
  case "$line" in ""|"$cr") break ;; esac
done
path=\${target%%\\?*}
answer() {
  printf 'HTTP/1.0 %s\\r\\nContent-Type: %s\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s' "$1" "$2" "\${#3}" "$3"
}
who="\\"version\\":\\"\${APP_VERSION:-unknown}\\",\\"task\\":\\"\${APP_TASK:-}\\",\\"host\\":\\"$(hostname)\\""
case "$path" in
  /health)
    if [ "\${APP_HEALTH:-ok}" = fail ] || [ -e "$state/fail-health" ]; then
      answer '503 Service Unavailable' application/json "{\\"status\\":\\"failing\\",$who}"
    elif [ -e "$state/draining" ]; then
      answer '503 Service Unavailable' application/json "{\\"status\\":\\"draining\\",$who}"
    else
      answer '200 OK' application/json "{\\"status\\":\\"ok\\",$who}"
    fi ;;
  /)
    answer '200 OK' text/plain "hello from app \${APP_VERSION:-unknown} \${APP_TASK:-}
" ;;
  *)
    answer '404 Not Found' text/plain "not found
" ;;
esac
`

/**
 * The container HEALTHCHECK: busybox `wget` of busybox-static segfaults in a bare rootfs (static
 * glibc resolver), so the check speaks HTTP through `nc`.
 */
export const CHECK_SCRIPT = `#!/bin/sh
printf 'GET /health HTTP/1.0\\r\\n\\r\\n' | nc -w 2 127.0.0.1 "\${APP_PORT:-8080}" | head -n 1 | grep -q ' 200 '
`

/** Busybox applets the scripts use (and a few for `docker exec` debugging). */
export const APPLETS = ['sh', 'nc', 'head', 'grep', 'sleep', 'cat', 'printf', 'kill', 'touch', 'rm', 'mkdir', 'hostname', 'ls', 'ps', 'echo', 'env', 'tr']

/** The tags built on every lab engine: versions to roll between, and one whose /health always fails. */
export const APP_REPOSITORY = 'ctl-lab/app'
export const APP_TAGS: Record<string, Record<string, string>> = {
  v1: {APP_VERSION: 'v1'},
  v2: {APP_VERSION: 'v2'},
  v3: {APP_VERSION: 'v3'},
  broken: {APP_VERSION: 'broken', APP_HEALTH: 'fail'},
}

/** `docker import --change` instructions of one tag; APP_BUILD lets `up` skip an identical image. */
export function importChanges(env: Record<string, string>, build: string): string[] {
  const lines = [...Object.entries(env).map(([k, v]) => `ENV ${k}=${v}`), `ENV APP_BUILD=${build}`, 'EXPOSE 8080', 'CMD ["/app/server"]']
  return lines.flatMap((line) => ['--change', line])
}
