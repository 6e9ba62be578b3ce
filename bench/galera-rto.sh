#!/usr/bin/env bash
# Recovery time objective of the lab's Galera cluster: `ctl lab break galera-crash` (kill -9 of every
# mariadbd) to a verified cluster (`ctl runbook galera-recover lab --yes` exits 0: 3 Synced, Primary,
# same uuid, probe row replicated), N times. Also the one-member loss (no bootstrap).
# Needs the shared lab up (ctl lab up) and a built ctl. Leaves the cluster healthy.
#   bench/galera-rto.sh [N=3]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
ctl=./bin/run.js
export CTL_NONINTERACTIVE=1

measure() { # scenario [argument]
  local start end
  start=$(date +%s.%N)
  "$ctl" lab break "$@" --yes >/dev/null
  "$ctl" runbook galera-recover lab --yes --json >/tmp/ctl-galera-rto.json || { echo "recovery failed: see /tmp/ctl-galera-rto.json" >&2; exit 1; }
  end=$(date +%s.%N)
  local decision runbook
  decision=$(jq -r '.summary.decision.action' /tmp/ctl-galera-rto.json)
  runbook=$(jq -r '.durationMs / 1000' /tmp/ctl-galera-rto.json)
  printf '%-18s %6.1f s to verified (runbook %5.1f s, decision %s)\n' "$1" "$(awk "BEGIN {print $end - $start}")" "$runbook" "$decision"
}

"$ctl" runbook galera-recover lab --yes >/dev/null   # start from a healthy cluster
for _ in $(seq "$n"); do measure galera-crash; done
for _ in $(seq "$n"); do measure galera-node-loss h3; done
