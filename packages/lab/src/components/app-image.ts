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
date +%s > "$state/started"
nc -ll -p "\${APP_PORT:-8080}" -e "$home/handle" &
listener=$!
drain() {
  touch "$state/draining"
  sleep "\${APP_DRAIN_SECONDS:-3}"
  kill "$listener" 2>/dev/null
  exit 0
}
trap drain TERM INT
# The 'exit' release: the server dies by itself a few seconds after starting.
if [ -n "\${APP_EXIT_AFTER_SECONDS:-}" ]; then
  sleep "$APP_EXIT_AFTER_SECONDS" &
  wait $!
  kill "$listener" 2>/dev/null
  exit 1
fi
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
# Why /health fails, if it does: told to (fail-health, APP_HEALTH=fail), still starting (APP_START_SECONDS),
# failing since APP_FAIL_AFTER_SECONDS after the start, or every other second (APP_HEALTH=flaky).
failing=
if [ -n "\${APP_START_SECONDS:-}\${APP_FAIL_AFTER_SECONDS:-}" ] || [ "\${APP_HEALTH:-ok}" = flaky ]; then
  now=$(date +%s)
  started=$now
  [ -e "$state/started" ] && read -r started < "$state/started"
  up=$(( now - started ))
fi
if [ "\${APP_HEALTH:-ok}" = fail ] || [ -e "$state/fail-health" ]; then failing=failing
elif [ -n "\${APP_START_SECONDS:-}" ] && [ "$up" -lt "$APP_START_SECONDS" ]; then failing=starting
elif [ -n "\${APP_FAIL_AFTER_SECONDS:-}" ] && [ "$up" -ge "$APP_FAIL_AFTER_SECONDS" ]; then failing=failing
elif [ "\${APP_HEALTH:-ok}" = flaky ] && [ $(( now % 2 )) = 1 ]; then failing=failing
fi
who="\\"version\\":\\"\${APP_VERSION:-unknown}\\",\\"task\\":\\"\${APP_TASK:-}\\",\\"host\\":\\"$(hostname)\\""
case "$path" in
  /health)
    if [ -n "$failing" ]; then
      answer '503 Service Unavailable' application/json "{\\"status\\":\\"$failing\\",$who}"
    elif [ -e "$state/draining" ]; then
      answer '503 Service Unavailable' application/json "{\\"status\\":\\"draining\\",$who}"
    else
      answer '200 OK' application/json "{\\"status\\":\\"ok\\",$who}"
    fi ;;
  /)
    # A broken release breaks what users get too (HAProxy retries a 5xx on another server).
    if [ "$failing" = failing ]; then answer '500 Internal Server Error' text/plain "app \${APP_VERSION:-unknown} failing
"; else answer '200 OK' text/plain "hello from app \${APP_VERSION:-unknown} \${APP_TASK:-}
"; fi ;;
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
export const APPLETS = [
  'sh',
  'nc',
  'head',
  'grep',
  'sleep',
  'cat',
  'printf',
  'kill',
  'touch',
  'rm',
  'mkdir',
  'hostname',
  'ls',
  'ps',
  'echo',
  'env',
  'tr',
  'date',
]

/**
 * The tags built on every lab engine: versions to roll between, and the bad releases the deploy gate
 * must stop (plus `slow`, good but healthy only after 12 s): /health failing from the start, failing
 * every other second, failing 7 s after the start (after its gate passed), and a server that exits 5 s after starting.
 */
export const APP_REPOSITORY = 'ctl-lab/app'
export const APP_TAGS: Record<string, Record<string, string>> = {
  v1: {APP_VERSION: 'v1'},
  v2: {APP_VERSION: 'v2'},
  v3: {APP_VERSION: 'v3'},
  broken: {APP_VERSION: 'broken', APP_HEALTH: 'fail'},
  flaky: {APP_VERSION: 'flaky', APP_HEALTH: 'flaky'},
  'fail-after': {APP_VERSION: 'fail-after', APP_FAIL_AFTER_SECONDS: '7'},
  exit: {APP_VERSION: 'exit', APP_EXIT_AFTER_SECONDS: '5'},
  slow: {APP_VERSION: 'slow', APP_START_SECONDS: '12'},
}

/** `docker import --change` instructions of one tag; APP_BUILD lets `up` skip an identical image. */
export function importChanges(env: Record<string, string>, build: string): string[] {
  const lines = [...Object.entries(env).map(([k, v]) => `ENV ${k}=${v}`), `ENV APP_BUILD=${build}`, 'EXPOSE 8080', 'CMD ["/app/server"]']
  return lines.flatMap((line) => ['--change', line])
}
