#!/usr/bin/env bash
# The RPO reached with MariaDB binary-log archiving offsite (`ctl runbook mariadb-binlog-archive`, the
# job a `mariadb-binlogs` schedule runs): writes go to the Galera cluster (one committed row every
# ~100 ms through h1) while the archive runs every ARCHIVE_SECONDS (a schedule with that interval;
# cron's own is at least a minute), then the WHOLE cluster is lost at once (`ctl lab break
# galera-crash`, every mariadbd killed -9; the archive loop killed with it: its node is gone too), and
# `ctl runbook mariadb-restore lab --at latest --repo offsite` restores from the offsite repository
# alone (the newest backup, then every archived binary log). Prints the seconds of committed writes
# lost (the last committed row's time minus the newest restored row's) against the archive period
# (the target: at most that), and the restore's duration. Ends with `ctl runbook galera-recover`.
# Needs the shared lab up (ctl lab up) and a built ctl.
#   RUNS=3 ARCHIVE_SECONDS=10 bench/mariadb-rpo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ctl=./bin/run.js
runs=${RUNS:-3}
write_seconds=${WRITE_SECONDS:-30}
archive_seconds=${ARCHIVE_SECONDS:-10}
export CTL_NONINTERACTIVE=1
sock=/run/ctl-lab/h1/galera/mysqld.sock
q() { mariadb --socket="$sock" -N -B -e "$1"; }
work=$(mktemp -d /var/tmp/ctl-bench-mrpo-XXXXXX)
loop=
cleanup() {
  [ -n "$loop" ] && kill -- -"$loop" 2>/dev/null || true
  [ -f "$work/remove" ] && sh -c "$(cat "$work/remove")" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$ctl" runbook galera-recover lab --yes >/dev/null
for ((run = 1; run <= runs; run++)); do
  q 'DROP DATABASE IF EXISTS ctl_rpo; CREATE DATABASE ctl_rpo; CREATE TABLE ctl_rpo.w (id INT PRIMARY KEY, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))'
  "$ctl" runbook mariadb-backup lab --yes >/dev/null
  # The archive, every archive_seconds, in its own process group (killed with the cluster).
  : >"$work/archived"
  setsid bash -c "while :; do $ctl runbook mariadb-binlog-archive lab --yes >/dev/null 2>&1 && date +%s.%N >>'$work/archived'; sleep $archive_seconds; done" &
  loop=$!
  : >"$work/committed"
  id=0
  end=$(($(date +%s) + write_seconds))
  while [ "$(date +%s)" -lt "$end" ]; do
    id=$((id + 1))
    if at=$(q "INSERT INTO ctl_rpo.w (id) VALUES ($id); SELECT UNIX_TIMESTAMP(at) FROM ctl_rpo.w WHERE id = $id" 2>/dev/null); then echo "$id $at" >>"$work/committed"; else id=$((id - 1)); fi
    sleep 0.1
  done
  # Everything at once, right after the last write: the cluster and the node that archives.
  kill -- -"$loop" 2>/dev/null || true
  loop=
  "$ctl" lab break galera-crash --yes >/dev/null
  read -r last_id last_at < <(tail -n 1 "$work/committed")
  period=$(awk 'NR > 1 { d = $1 - p; if (d > m) m = d } { p = $1 } END { printf "%.1f", m }' "$work/archived")
  start=$(date +%s.%N)
  "$ctl" runbook mariadb-restore lab --at latest --repo offsite --yes --json >"$work/restore.json" || true
  finish=$(date +%s.%N)
  if [ "$(jq -r .outcome "$work/restore.json")" != ok ]; then
    echo "run $run: restore failed: $(jq -r '.error.message? // .error' "$work/restore.json")"
  else
    jq -r .summary.scratch.remove "$work/restore.json" >"$work/remove"
    dir=$(jq -r .summary.scratch.dir "$work/restore.json")
    read -r got_id got_at < <(mariadb --no-defaults --socket="$dir/sock" -N -B -e 'SELECT id, UNIX_TIMESTAMP(at) FROM ctl_rpo.w ORDER BY id DESC LIMIT 1')
    awk -v run="$run" -v li="$last_id" -v la="$last_at" -v gi="$got_id" -v ga="$got_at" -v p="$period" -v s="$start" -v e="$finish" 'BEGIN {
      printf "run %d: %d rows committed, %d restored from offsite, %d lost = %.1f s of writes (archive period %.1f s: %s); restore --at latest --repo offsite %.1f s\n",
        run, li, gi, li - gi, la - ga, p, (la - ga <= p ? "within" : "OVER"), e - s }'
    sh -c "$(cat "$work/remove")" >/dev/null 2>&1
    rm -f "$work/remove"
  fi
  "$ctl" runbook galera-recover lab --yes >/dev/null
done
q 'DROP DATABASE IF EXISTS ctl_rpo'
