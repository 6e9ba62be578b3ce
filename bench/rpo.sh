#!/usr/bin/env bash
# The RPO reached with WAL archiving (pgBackRest, databases.patroni.pgbackrest on the lab): writes run
# through the write endpoint (one committed row every INTERVAL_MS), then the WHOLE Patroni cluster is
# lost at once (every member's Patroni and PostgreSQL killed -9: the disks are taken as gone), and
# `ctl runbook pg-restore lab --at latest` brings back what the repository holds. Prints the seconds
# of committed writes lost (last committed row's time minus the newest restored row's time) against
# archive_timeout (the target: at most that interval), and the restore's duration.
# Needs the shared lab up (ctl lab up) and a built ctl; ends with `ctl lab up` (the members restart).
#   RUNS=3 bench/rpo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ctl=./bin/run.js
runs=${RUNS:-3}
write_seconds=${WRITE_SECONDS:-25}
export CTL_NONINTERACTIVE=1
export PGPASSWORD
PGPASSWORD=$(cat .lab/patroni-superuser.password)
endpoint=(-h 198.18.0.11 -p 5000 -U postgres)
work=$(mktemp -d /var/tmp/ctl-bench-rpo-XXXXXX)
cleanup() {
  [ -f "$work/remove" ] && sh -c "$(cat "$work/remove")" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

archive_timeout=$("$ctl" inventory show lab --json | jq -r '.inventory.databases.patroni.pgbackrest.archiveTimeoutSeconds')
"$ctl" runbook pgbackrest-setup lab --yes >/dev/null
"$ctl" runbook pgbackrest-backup lab --yes >/dev/null

for ((run = 1; run <= runs; run++)); do
  "$ctl" lab up >/dev/null
  psql -X -q "${endpoint[@]}" -c 'drop database if exists ctl_rpo with (force)' -c 'create database ctl_rpo'
  psql -X -q "${endpoint[@]}" -d ctl_rpo -c 'create table w (id int primary key, at timestamptz not null default clock_timestamp())'
  # One row per statement (autocommit): the writer logs each id once psql says it committed.
  : >"$work/committed"
  (
    id=0
    end=$(($(date +%s) + write_seconds))
    while [ "$(date +%s)" -lt "$end" ]; do
      id=$((id + 1))
      if at=$(psql -X -q -At "${endpoint[@]}" -d ctl_rpo -c "insert into w(id) values ($id) returning extract(epoch from at)" 2>/dev/null); then echo "$id $at" >>"$work/committed"; else id=$((id - 1)); fi
      sleep 0.1
    done
  ) &
  writer=$!
  wait "$writer"
  # The whole cluster at once, right after the last write: nothing more reaches the repository.
  for h in h1 h2 h3; do ip netns exec "ctl-lab-$h" "/var/lib/ctl-lab/$h/bin/ctl-lab-patroni" kill >/dev/null; done
  read -r last_id last_at < <(tail -n 1 "$work/committed")
  start=$(date +%s.%N)
  "$ctl" runbook pg-restore lab --at latest --yes --json >"$work/restore.json" || true
  end=$(date +%s.%N)
  if [ "$(jq -r .outcome "$work/restore.json")" != ok ]; then
    echo "run $run: restore failed: $(jq -r .error.message "$work/restore.json")"
    continue
  fi
  jq -r .summary.scratch.remove "$work/restore.json" >"$work/remove"
  dir=$(jq -r .summary.scratch.dir "$work/restore.json")
  port=$(jq -r .summary.scratch.port "$work/restore.json")
  read -r got_id got_at < <(runuser -u postgres -- psql -X -At -F ' ' -h "$dir" -p "$port" -d ctl_rpo -c 'select id, extract(epoch from at) from w order by id desc limit 1')
  awk -v run="$run" -v li="$last_id" -v la="$last_at" -v gi="$got_id" -v ga="$got_at" -v t="$archive_timeout" -v s="$start" -v e="$end" 'BEGIN {
    printf "run %d: %d rows committed, %d restored, %d lost = %.1f s of writes (archive_timeout %d s: %s); restore --at latest %.1f s\n",
      run, li, gi, li - gi, la - ga, t, (la - ga <= t ? "within" : "OVER"), e - s }'
  sh -c "$(cat "$work/remove")" >/dev/null 2>&1
  rm -f "$work/remove"
done
"$ctl" lab up >/dev/null
psql -X -q "${endpoint[@]}" -c 'drop database if exists ctl_rpo with (force)'
