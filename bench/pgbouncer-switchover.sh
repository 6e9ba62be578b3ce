#!/usr/bin/env bash
# Writes during a Patroni switchover, through PgBouncer (paused around the switch by ctl) and straight
# through the HAProxy write endpoint, side by side: one new connection and one INSERT every 50 ms on
# each path while `ctl runbook patroni-switchover lab --yes` runs. Prints, per path, the writes, the
# failed ones and the longest single write (connect + insert: how long a client waited). N rounds.
# Needs the shared lab up (with its PgBouncer) and a built ctl.
#   bench/pgbouncer-switchover.sh [N=3]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
export CTL_NONINTERACTIVE=1 PGPASSWORD PGCONNECT_TIMEOUT=5
PGPASSWORD=$(cat .lab/patroni-superuser.password)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sql() { psql -X -q -h 198.18.0.11 -p 5000 -U postgres -d postgres -c "$1" >/dev/null; }
sql 'create table if not exists ctl_bench_writes (path text, at timestamptz default now())'

# One INSERT per new connection, every 50 ms, until $dir/stop exists: "<start> <end> <rc>" per write.
writer() {
  local port=$1 path=$2 log=$3
  while [ ! -e "$dir/stop" ]; do
    s=$(date +%s.%N)
    if psql -X -q -h 198.18.0.11 -p "$port" -U postgres -d postgres -c "insert into ctl_bench_writes (path) values ('$path')" >/dev/null 2>>"$log.err"; then rc=0; else rc=1; fi
    echo "$s $(date +%s.%N) $rc" >>"$log"
    sleep 0.05
  done
}

report() {
  awk -v path="$1" '{n++; if ($3 != 0) f++; d = $2 - $1; if (d > m) m = d} END {printf "  %-9s %4d writes, %d failed, longest write %.2f s\n", path, n, f, m}' "$2"
}

for i in $(seq "$n"); do
  rm -f "$dir"/*
  writer 6432 pgbouncer "$dir/pgbouncer" &
  writer 5000 haproxy "$dir/haproxy" &
  sleep 2
  start=$(date +%s.%N)
  candidate=$(curl -s --max-time 3 http://198.18.0.11:8008/cluster | jq -r '[.members[] | select(.role != "leader")][0].name')
  ./bin/run.js runbook patroni-switchover lab --candidate "$candidate" --yes --json >"$dir/run.json" || { echo "switchover failed: $(jq -c .error "$dir/run.json")" >&2; touch "$dir/stop"; wait; exit 1; }
  end=$(date +%s.%N)
  sleep 2
  touch "$dir/stop"
  wait
  printf 'round %d: %s → %s, PgBouncer paused %.1f s, command %.1f s\n' "$i" "$(jq -r .summary.previousLeader "$dir/run.json")" "$(jq -r .summary.leader "$dir/run.json")" \
    "$(jq -r '.summary.pgbouncerPausedMs / 1000' "$dir/run.json")" "$(awk "BEGIN {print $end - $start}")"
  report pgbouncer "$dir/pgbouncer"
  report haproxy "$dir/haproxy"
  sleep 3
done
sql 'drop table ctl_bench_writes'
