#!/usr/bin/env bash
# Times `ctl lab up` from nothing, again (idempotent, nothing to do) and `ctl lab down`, on a separate
# lab instance (CTL_LAB_INSTANCE, default 9), never on the shared lab. Linux, root, built ctl.
#   bench/lab-up.sh            3 hosts (sshd+dockerd) and 30 sshd-only hosts
#   bench/lab-up.sh --full     also the whole 3-host lab with every component (Galera, Patroni, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
export CTL_LAB_INSTANCE="${CTL_LAB_INSTANCE:-9}" CTL_NONINTERACTIVE=1
if [ "$CTL_LAB_INSTANCE" = 0 ]; then echo "refusing to bench the shared lab (CTL_LAB_INSTANCE=0)" >&2; exit 2; fi
ctl=./bin/run.js

seconds() { # runs "$@" quietly, prints its wall time in seconds; fails when it fails
  local start=$EPOCHREALTIME
  if ! "$@" >/tmp/ctl-lab-bench.out 2>&1; then tail -20 /tmp/ctl-lab-bench.out >&2; return 1; fi
  awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

bench() { # label, then the `lab up` flags
  local label=$1; shift
  $ctl lab down --yes >/dev/null 2>&1 || true
  local first again down
  first=$(seconds $ctl lab up "$@")
  again=$(seconds $ctl lab up "$@")
  down=$(seconds $ctl lab down --yes)
  printf '%-36s up from nothing %6s s   up again %5s s   down %5s s\n' "$label" "$first" "$again" "$down"
}

echo "lab instance $CTL_LAB_INSTANCE, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
bench '3 hosts, sshd + dockerd' --hosts 3 --only hosts --only docker
bench '30 hosts, sshd only' --hosts 30 --no-docker
if [ "${1:-}" = --full ]; then bench '3 hosts, every component' --hosts 3; fi
