#!/usr/bin/env bash
# Benchmark: what one SSH session to a lab host costs. Median wall time of RUNS × `ssh root@<host>
# true` with the lab key and known_hosts, and the CPU root's shell used in a session (its own and its
# waited-for children's, from /proc/$$/stat: what its rc files cost).
#
# Usage: bench/lab-ssh-session.sh [address] [known_hosts]   (default 198.18.0.11 .lab/known_hosts; RUNS=11)
set -euo pipefail
cd "$(dirname "$0")/.."
host=${1:-198.18.0.11}
known=${2:-.lab/known_hosts}
RUNS=${RUNS:-11}
case $host in 198.18.*) ;; *) echo "refusing: $host is not a lab address (198.18.0.0/16)" >&2; exit 2 ;; esac
tick=$(getconf CLK_TCK)
ssh_lab() { ssh -i .lab/id_ed25519 -o UserKnownHostsFile="$known" -o StrictHostKeyChecking=yes "root@$host" "$@"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
walls=() cpus=()
for ((i = 0; i < RUNS; i++)); do
  start=$(date +%s%N)
  ssh_lab true
  end=$(date +%s%N)
  walls+=($(((end - start) / 1000000)))
  # shellcheck disable=SC2016 # $$ is the remote shell's
  cpus+=("$(ssh_lab 'cat /proc/$$/stat' | awk -v t="$tick" '{sub(/^.*\) /, ""); print int(($12 + $13 + $14 + $15) * 1000 / t)}')")
done
echo "$host: ssh true median $(printf '%s\n' "${walls[@]}" | median) ms; root's shell CPU per session median $(printf '%s\n' "${cpus[@]}" | median) ms (load $(cut -d' ' -f1-3 /proc/loadavg))"
