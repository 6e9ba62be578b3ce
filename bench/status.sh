#!/usr/bin/env bash
# How long `ctl status` takes: RUNS timed runs (after one untimed run, which fills Node's compile
# cache and the hosts' page caches), each printing its median, fastest and slowest wall time, the
# time ctl measured itself (the reads, without Node's start), and the exit codes seen.
# Target (issue 19, docs/PERFORMANCE.md): under 1.5 s on the lab. Needs a built ctl (npm run build)
# and a lab that is up (`ctl lab up`, the swarm bootstrapped); VAULT_TOKEN from the lab's keys file.
#
# Usage: bench/status.sh [env]      (env: lab by default; RUNS=10 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
ENV_NAME=${1:-lab}
RUNS=${RUNS:-10}
keys=.lab/vault-keys.json
if [ -z "${VAULT_TOKEN:-}" ] && [ -r "$keys" ]; then VAULT_TOKEN=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).root_token)' "$keys"); export VAULT_TOKEN; fi

median() { sort -n | awk '{v[NR] = $1} END {printf "%d\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

./bin/run.js status "$ENV_NAME" --json >/dev/null 2>&1 || true
walls=() inner=() codes=()
for _ in $(seq "$RUNS"); do
  start=${EPOCHREALTIME/./}
  code=0
  ./bin/run.js status "$ENV_NAME" --json >"$out" 2>/dev/null || code=$?
  end=${EPOCHREALTIME/./}
  walls+=($(((end - start) / 1000)))
  inner+=("$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).durationMs ?? -1)' "$out")")
  codes+=("$code")
done
printf 'ctl status %s, %d runs (load %s)\n' "$ENV_NAME" "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  wall time:  median %d ms, fastest %d ms, slowest %d ms\n' "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${walls[@]}" | sort -n | head -1)" "$(printf '%s\n' "${walls[@]}" | sort -n | tail -1)"
printf '  reads (ctl durationMs): median %d ms\n' "$(printf '%s\n' "${inner[@]}" | median)"
printf '  exit codes: %s\n' "$(printf '%s\n' "${codes[@]}" | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')"
