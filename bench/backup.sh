#!/usr/bin/env bash
# Backups on the lab, for a database of SIZE_MIB (1024 by default) in each cluster:
#  - backup time and throughput of ctl's runbook against the raw tool writing to local disk on the
#    same host (mariabackup --backup + --prepare in h3's namespace; pg_dump -Fc from this machine
#    against the member ctl dumps from), and ctl's overhead ratio (target at most 1.3x);
#  - restore time into a scratch server: `ctl backup verify` of each backup (checksums, copy or
#    pg_restore, start, every table counted and compared);
#  - where ctl's time goes (each runbook step);
#  - the RPO reached with WAL archiving: bench/rpo.sh (pgBackRest; kills the whole Patroni cluster)
#    and with binlog archiving: bench/mariadb-rpo.sh (the archive offsite; kills the whole Galera
#    cluster, restores from offsite alone), run at the end unless RPO=0.
# Needs the shared lab up (ctl lab up) and a built ctl. Writes SIZE_MIB into each cluster (a
# database ctl_bench), removes it and every backup it took at the end. Disk: about 8x SIZE_MIB free.
#   SIZE_MIB=1024 bench/backup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ctl=./bin/run.js
size_mib=${SIZE_MIB:-1024}
export CTL_NONINTERACTIVE=1
galera_sock=/run/ctl-lab/h1/galera/mysqld.sock
h3_sock=/run/ctl-lab/h3/galera/mysqld.sock
pgpass=$(cat .lab/patroni-superuser.password)
work=$(mktemp -d /var/tmp/ctl-bench-backup-XXXXXX)
taken=()
cleanup() {
  rm -rf "$work"
  for path in "${taken[@]}"; do rm -rf "$path" "$path.json" "$path.verify.json"; done
  mariadb --socket="$galera_sock" -u root -e 'DROP DATABASE IF EXISTS ctl_bench' 2>/dev/null || true
  PGPASSWORD=$pgpass psql -X -q -h 198.18.0.11 -p 5000 -U postgres -c 'drop database if exists ctl_bench with (force)' 2>/dev/null || true
}
trap cleanup EXIT

now() { date +%s.%N; }
secs() { awk "BEGIN {printf \"%.1f\", $2 - $1}"; }
mibps() { awk "BEGIN {printf \"%.0f\", $1 / ($3 - $2)}"; }

echo "Filling ctl_bench with ${size_mib} MiB in each cluster..." >&2
rows=$((size_mib * 1024))  # 1 KiB a row
mariadb --socket="$galera_sock" -u root -e 'DROP DATABASE IF EXISTS ctl_bench; CREATE DATABASE ctl_bench; CREATE TABLE ctl_bench.t (id INT PRIMARY KEY, v VARCHAR(1100) NOT NULL) ENGINE=InnoDB'
# 64 MiB a transaction: Galera replicates each as one write set.
for ((from = 0; from < rows; from += 65536)); do
  mariadb --socket="$galera_sock" -u root ctl_bench -e "INSERT INTO t SELECT seq, REPEAT(MD5(RAND()), 32) FROM seq_${from}_to_$((from + 65535 < rows - 1 ? from + 65535 : rows - 1))"
done
PGPASSWORD=$pgpass psql -X -q -h 198.18.0.11 -p 5000 -U postgres -c 'create database ctl_bench'
PGPASSWORD=$pgpass psql -X -q -h 198.18.0.11 -p 5000 -U postgres -d ctl_bench \
  -c "create table t (id int primary key, v text not null); insert into t select g, repeat(md5(random()::text), 32) from generate_series(1, $rows) g"
# ANALYZE first: InnoDB's table statistics lag behind a fresh fill.
maria_bytes=$(mariadb --socket="$h3_sock" -u root -N -e "ANALYZE TABLE ctl_bench.t" >/dev/null && mariadb --socket="$h3_sock" -u root -N -e "SELECT data_length + index_length FROM information_schema.tables WHERE table_schema = 'ctl_bench' AND table_name = 't'")
pg_bytes=$(PGPASSWORD=$pgpass psql -X -At -h 198.18.0.11 -p 5000 -U postgres -d ctl_bench -c "select pg_database_size('ctl_bench')")
sleep 5  # replicas catch up

# MariaDB: ctl's runbook on h3, then the raw tool on h3 (its namespace, its local disk).
start=$(now)
"$ctl" runbook mariadb-backup lab --yes --json >"$work/maria.json"
ctl_maria_end=$(now)
ctl_maria_start=$start
maria_path=$(jq -r .summary.backup "$work/maria.json")
taken+=("$maria_path")
maria_backup_bytes=$(jq -r .summary.sizeBytes "$work/maria.json")
start=$(now)
ip netns exec ctl-lab-h3 sh -c "mariabackup --defaults-file=/var/lib/ctl-lab/h3/galera/my.cnf --backup --galera-info --socket=$h3_sock --user=root --target-dir=$work/raw-maria && mariabackup --prepare --target-dir=$work/raw-maria" >"$work/raw-maria.log" 2>&1
raw_maria_end=$(now)
raw_maria_start=$start
rm -rf "$work/raw-maria"

# PostgreSQL: ctl's runbook (it picks the source), then the raw pg_dump against the same member,
# from this machine to its local disk (run second: a warm cache favours the raw tool, not ctl).
start=$(now)
"$ctl" runbook pg-backup lab --db ctl_bench --yes --json >"$work/pg.json"
ctl_pg_end=$(now)
ctl_pg_start=$start
pg_path=$(jq -r .summary.backup.file "$work/pg.json")
taken+=("$pg_path")
pg_source=$(jq -r .summary.source.member "$work/pg.json")
source_node=$(jq -r .summary.source.node "$work/pg.json")
source_address=$("$ctl" inventory show lab --json | jq -r --arg n "$source_node" '(.inventory // .).nodes[] | select(.name == $n) | .address')
start=$(now)
PGPASSWORD=$pgpass pg_dump -Fc -h "$source_address" -U postgres -d ctl_bench -f "$work/raw.dump"
raw_pg_end=$(now)
raw_pg_start=$start
rm -f "$work/raw.dump"

# Restore into a scratch server: ctl's drill of each backup.
start=$(now)
"$ctl" backup verify lab --path "$maria_path" --json >"$work/verify-maria.json"
verify_maria=$(secs "$start" "$(now)")
start=$(now)
"$ctl" backup verify lab --path "$pg_path" --json >"$work/verify-pg.json"
verify_pg=$(secs "$start" "$(now)")

mib() { awk "BEGIN {printf \"%.0f\", $1 / 1048576}"; }
printf '%-34s %10s %10s %8s %10s\n' 'backup' 'raw tool' 'ctl' 'ratio' 'ctl MiB/s'
# One row: label, raw start/end, ctl start/end, bytes ctl backed up.
row() {
  printf '%-34s %9ss %9ss %7sx %10s\n' "$1" "$(secs "$2" "$3")" "$(secs "$4" "$5")" \
    "$(awk "BEGIN {printf \"%.2f\", ($5 - $4) / ($3 - $2)}")" "$(mibps "$(mib "$6")" "$4" "$5")"
}
row "mariabackup, $(mib "$maria_bytes") MiB table on h3" "$raw_maria_start" "$raw_maria_end" "$ctl_maria_start" "$ctl_maria_end" "$maria_backup_bytes"
row "pg_dump -Fc, $(mib "$pg_bytes") MiB database (ctl: $pg_source)" "$raw_pg_start" "$raw_pg_end" "$ctl_pg_start" "$ctl_pg_end" "$pg_bytes"
echo
# Where ctl's time goes: each runbook step's duration.
step_times() { jq -r '[.steps[] | "\(.id) \((.durationMs // 0) / 1000 | . * 10 | round / 10)s"] | join(", ")' "$1"; }
echo "ctl mariadb-backup steps: $(step_times "$work/maria.json")"
echo "ctl pg-backup steps: $(step_times "$work/pg.json")"
echo
drill_result() { jq -r '.results[0].record | "\(.outcome), \(.rows) rows, counts \(.counts)"' "$1"; }
echo "restore drill (ctl backup verify): mariadb ${verify_maria}s ($(drill_result "$work/verify-maria.json")), postgres ${verify_pg}s ($(drill_result "$work/verify-pg.json"))"
echo
if [ "${RPO:-1}" != 0 ]; then
  echo 'RPO with WAL archiving (pgBackRest; the whole Patroni cluster lost at once), bench/rpo.sh:'
  bench/rpo.sh
  echo 'RPO with binlog archiving (mariadb-binlog-archive offsite; the whole Galera cluster lost at once), bench/mariadb-rpo.sh:'
  bench/mariadb-rpo.sh
fi
