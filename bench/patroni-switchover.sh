#!/usr/bin/env bash
# Switchover time of the lab's Patroni cluster: `ctl runbook patroni-switchover lab --candidate X --yes`
# N times, round robin over the replicas. Prints, per run, the time from the POST /switchover request
# to the first write accepted by the new leader (the runbook's writableAfterMs), and the whole
# command (facts, checks, followers streaming, write endpoint). Then one failover after
# `ctl lab break patroni-leader-loss`. Needs the shared lab up and a built ctl.
#   bench/patroni-switchover.sh [N=3]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
ctl=./bin/run.js
export CTL_NONINTERACTIVE=1
out=/tmp/ctl-patroni-bench.json

leader() { curl -s --max-time 3 http://198.18.0.11:8008/cluster | jq -r '.members[] | select(.role == "leader") | .name'; }
replica() { curl -s --max-time 3 http://198.18.0.11:8008/cluster | jq -r '[.members[] | select(.role != "leader")][0].name'; }

for i in $(seq "$n"); do
  candidate=$(replica)
  start=$(date +%s.%N)
  "$ctl" runbook patroni-switchover lab --candidate "$candidate" --yes --json >"$out" || { echo "switchover failed: see $out" >&2; exit 1; }
  end=$(date +%s.%N)
  printf 'switchover %d → %-6s request→writable %5.1f s, command %5.1f s\n' "$i" "$candidate" "$(jq -r '.summary.writableAfterMs / 1000' "$out")" "$(awk "BEGIN {print $end - $start}")"
done

candidate=$(replica)
"$ctl" lab break patroni-leader-loss --yes >/dev/null
start=$(date +%s.%N)
"$ctl" runbook patroni-failover lab --candidate "$candidate" --yes --json >"$out" || { echo "failover failed: see $out" >&2; exit 1; }
end=$(date +%s.%N)
printf 'failover   → %-6s request→writable %5.1f s, command (incl. old leader rejoining) %5.1f s\n' "$candidate" "$(jq -r '.summary.writableAfterMs / 1000' "$out")" "$(awk "BEGIN {print $end - $start}")"
echo "leader now: $(leader)"
