#!/usr/bin/env bash
# The whole lab is lost and the data comes back from the offsite S3 storage alone (issue 17):
#  1. rows written into both clusters; a pgBackRest backup into the offsite repository (repo2), the
#     WAL after it archived there too; a mariabackup backup shipped offsite by restic;
#  2. `ctl lab down --keep-offsite` (every host, data directory, local backup and repository gone; only
#     .lab/ with the keys and the S3 objects stay), then a fresh `ctl lab up`: new, empty clusters;
#  3. PostgreSQL: pgbackrest-setup --configs-only, then pg-restore --at latest --repo offsite --into:
#     the database back in the new cluster; MariaDB: backup fetch of the offsite snapshot, then
#     mariadb-restore --from it; and the rows written after that backup, from the binary logs archived
#     offsite (mariadb-binlog-archive): mariadb-restore --at latest --repo offsite into a scratch server;
#  4. every row compared with what was written, and the time of each part printed.
# Needs the shared lab up and a built ctl. Afterwards the lab is a fresh one whose offsite pgBackRest
# prefix still holds the old cluster's stanza: the script removes it and runs pgbackrest-setup again.
#   bench/offsite-recovery.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ctl=./bin/run.js
export CTL_NONINTERACTIVE=1
rows=${ROWS:-5000}
pgpass() { cat .lab/patroni-superuser.password; }
pg() { PGPASSWORD=$(pgpass) psql -X -At -q -v ON_ERROR_STOP=1 -h 198.18.0.11 -p 5000 -U postgres "$@"; }
maria() { mariadb --socket=/run/ctl-lab/h1/galera/mysqld.sock -u root -N -B -e "$1"; }
now() { date +%s.%N; }
took() { printf '%-58s %6.1f s\n' "$1" "$(awk -v a="$(now)" -v b="$2" 'BEGIN { print a - b }')"; }
field() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const v=($1)(JSON.parse(s));console.log(v===undefined?'':v)})"; }

echo "== rows into both clusters ($rows each)"
pg -c 'drop database if exists ctl_dr with (force)' -c 'create database ctl_dr'
pg -d ctl_dr -c "create table kept (id int primary key, v text not null); insert into kept select g, md5(g::text) from generate_series(1, $rows) g"
maria "DROP DATABASE IF EXISTS ctl_dr; CREATE DATABASE ctl_dr; CREATE TABLE ctl_dr.kept (id INT PRIMARY KEY, v VARCHAR(64) NOT NULL) ENGINE=InnoDB;"
maria "USE ctl_dr; INSERT INTO kept SELECT seq, MD5(seq) FROM seq_1_to_$rows;"
pg_digest() { pg -d ctl_dr -c "select count(*) || ':' || md5(string_agg(id || v, ',' order by id)) from kept"; }
maria_digest() { maria "SET SESSION group_concat_max_len = 1073741824; SET SESSION wsrep_sync_wait = 1; SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(CONCAT(id, v) ORDER BY id SEPARATOR ','))) FROM ctl_dr.kept;"; }
last_archived() { pg -c "select coalesce(last_archived_wal, '') from pg_stat_archiver"; }
maria_before=$(maria_digest)

echo "== backups offsite"
t=$(now); $ctl runbook pgbackrest-setup lab --yes > /dev/null; took 'pgbackrest-setup (both repositories)' "$t"
t=$(now); $ctl runbook pgbackrest-backup lab --repo offsite --yes > /dev/null; took 'pgbackrest-backup --repo offsite' "$t"
# More rows after the backup: they come back through the WAL archived offsite.
pg -d ctl_dr -c "insert into kept select g, md5(g::text) from generate_series($rows + 1, $rows + 100) g"
pg_before=$(pg_digest)
segment=$(pg -c 'select pg_walfile_name(pg_switch_wal())')
for _ in $(seq 240); do a=$(last_archived); [[ "$a" > "$segment" || "$a" == "$segment" ]] && break; sleep 0.5; done
t=$(now); $ctl runbook mariadb-backup lab --yes > /dev/null; took 'mariadb-backup (shipped offsite by restic)' "$t"
# More rows after it: they come back through the binary logs archived offsite.
maria "USE ctl_dr; INSERT INTO kept SELECT seq, MD5(seq) FROM seq_$((rows + 1))_to_$((rows + 100));"
maria_later=$(maria_digest)
t=$(now); $ctl runbook mariadb-binlog-archive lab --yes > /dev/null; took 'mariadb-binlog-archive (offsite)' "$t"

echo "== the whole lab lost"
t=$(now); $ctl lab down --yes --keep-offsite > /dev/null; took 'ctl lab down --keep-offsite' "$t"
t=$(now); $ctl lab up > /dev/null; took 'ctl lab up (fresh, empty clusters)' "$t"
start=$(now)

echo "== PostgreSQL back from S3"
t=$(now); $ctl runbook pgbackrest-setup lab --configs-only --yes > /dev/null; took 'pgbackrest-setup --configs-only' "$t"
t=$(now)
$ctl runbook pg-restore lab --at latest --repo offsite --db ctl_dr --into ctl_dr --yes --json > /tmp/ctl-dr-pg.json
took 'pg-restore --at latest --repo offsite --into ctl_dr' "$t"
remove=$(field 'r=>r.summary.scratch.remove' < /tmp/ctl-dr-pg.json)
sh -c "$remove" || true
pg_after=$(pg_digest)

echo "== MariaDB back from S3"
point=$($ctl backup list lab --database mariadb --json | field 'r=>r.restorePoints.find(p=>p.series==="mariadb@offsite").path')
t=$(now); $ctl backup fetch lab --path "$point" --json > /tmp/ctl-dr-fetch.json; took "backup fetch $point" "$t"
dir=$(field 'r=>r.fetched' < /tmp/ctl-dr-fetch.json)
t=$(now); $ctl runbook mariadb-restore lab --from "$dir" --node h3 --yes > /dev/null; took 'mariadb-restore --from the fetched backup' "$t"
maria_after=$(maria_digest)
took 'from a fresh lab to both databases back' "$start"
t=$(now)
$ctl runbook mariadb-restore lab --at latest --repo offsite --yes --json > /tmp/ctl-dr-mpitr.json
took 'mariadb-restore --at latest --repo offsite (scratch server)' "$t"
scratch=$(field 'r=>r.summary.scratch.socket' < /tmp/ctl-dr-mpitr.json)
maria_pitr=$(mariadb --no-defaults --socket="$scratch" -N -B -e "SET SESSION group_concat_max_len = 1073741824; SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(CONCAT(id, v) ORDER BY id SEPARATOR ','))) FROM ctl_dr.kept;")
sh -c "$(field 'r=>r.summary.scratch.remove' < /tmp/ctl-dr-mpitr.json)" || true

echo "PostgreSQL rows:count:digest before $pg_before, after $pg_after"
echo "MariaDB    rows:count:digest before $maria_before, after $maria_after"
echo "MariaDB + archived binary logs: before $maria_later, after $maria_pitr"
# The new cluster cannot share the old one's pgBackRest stanza offsite: start that prefix again.
rm -rf .lab/offsite-s3/ctl-backups/pgbackrest
$ctl runbook pgbackrest-setup lab --yes > /dev/null
pg -c 'drop database if exists ctl_dr with (force)'
maria 'DROP DATABASE IF EXISTS ctl_dr'
[[ "$pg_before" == "$pg_after" && "$maria_before" == "$maria_after" && "$maria_later" == "$maria_pitr" ]] && echo 'RESULT: every row back from the offsite storage alone' || { echo 'RESULT: rows differ'; exit 1; }
