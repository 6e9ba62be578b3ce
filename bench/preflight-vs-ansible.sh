#!/usr/bin/env bash
# Benchmark: `ctl check` against an Ansible ad-hoc run doing the same SSH-level checks on the same
# lab hosts, with 3 hosts (the shared lab, inventories/lab.yml) and with 30 sshd-only hosts (a
# separate lab instance, CTL_LAB_INSTANCE, made with `ctl lab up --hosts 30 --no-docker`).
#
# The SSH-level checks: reach the host with a verified host key and read the kernel (ssh), free disk
# (df -Pk /), available memory (/proc/meminfo), the clock (date +%s%N). ctl runs them as
# `ctl check run <inv> ssh disk-free memory clock-skew`; Ansible as one `shell` ad-hoc command per
# host running the same programs (date twice: ctl reads each clock with two round trips). Both verify host keys against the lab's known_hosts, use the lab
# key, and work on as many hosts at once (ctl: the inventory's ssh.concurrency; Ansible: --forks).
# Each side starts cold (Ansible: an empty ControlPersist socket directory per run). Prints the
# median wall time of RUNS runs of each, and their ratio. Only lab addresses are targets.
#
# Usage: bench/preflight-vs-ansible.sh            (RUNS=3 INSTANCE=16 by default; Linux, root)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
INSTANCE=${INSTANCE:-16}
CTL=./bin/run.js
export CTL_NONINTERACTIVE=1
command -v ansible >/dev/null || { echo "ansible is not installed: apt-get install ansible-core" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq is not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/ctl-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

# An Ansible inventory of the ctl inventory's nodes (lab addresses only), with its key and known_hosts.
ansible_inventory() {
  local inv=$1 out=$2 shown
  shown=$("$CTL" inventory show "$inv" --json)
  if echo "$shown" | jq -e '[.inventory.nodes[].address | test("^198\\.18\\.")] | all | not' >/dev/null; then
    echo "refusing: $inv has addresses outside the lab's 198.18.0.0/16" >&2
    exit 2
  fi
  {
    echo '[hosts]'
    echo "$shown" | jq -r '.inventory.nodes[] | "\(.name) ansible_host=\(.address)"'
    echo '[hosts:vars]'
    echo "$shown" | jq -r '.inventory.ssh | "ansible_user=\(.user)\nansible_port=\(.port)\nansible_ssh_private_key_file=\(.key)\nansible_ssh_common_args=\"-o UserKnownHostsFile=\(.knownHosts) -o StrictHostKeyChecking=yes -o ConnectTimeout=5\""'
    echo 'ansible_python_interpreter=/usr/bin/python3'
  } >"$out"
  echo "$shown" | jq -r '.inventory.ssh.concurrency'
}

# Both sides are timed whatever they find; each run's outcome is printed next to its time (a busy
# machine makes SSH slow for both: a run with timeouts still says how long the tool took to answer).
run_ctl() {
  local inv=$1 start end code=0
  start=$(now_ms)
  "$CTL" check run "$inv" ssh disk-free memory clock-skew --json >"$work/ctl.json" 2>"$work/ctl.err" || code=$?
  end=$(now_ms)
  echo "$((end - start)) ms (exit $code: $(jq -r '.summary | "\(.pass) pass, \(.warn) warn, \(.fail) fail, \(.error) could not run"' "$work/ctl.json" 2>/dev/null || echo unreadable))"
}

run_ansible() {
  local hosts=$1 forks=$2 start end code=0 cp
  cp=$(mktemp -d "$work/cp-XXXXXX")
  start=$(now_ms)
  ANSIBLE_SSH_CONTROL_PATH_DIR=$cp ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_PIPELINING=${ANSIBLE_PIPELINING:-True} \
    ansible all -i "$hosts" --forks "$forks" -m shell \
    -a 'uname -sr && df -Pk / && grep -E "^(MemTotal|MemAvailable):" /proc/meminfo && date +%s%N && date +%s%N' \
    >"$work/ansible.out" 2>&1 || code=$?
  end=$(now_ms)
  echo "$((end - start)) ms (exit $code: $(grep -c '| CHANGED |' "$work/ansible.out") ok, $(grep -c 'UNREACHABLE!' "$work/ansible.out") unreachable, $(grep -c '| FAILED' "$work/ansible.out") failed)"
}

bench() {
  local label=$1 inv=$2 count forks ctl_runs=() ansible_runs=() i
  forks=$(ansible_inventory "$inv" "$work/hosts.ini")
  count=$(grep -c ansible_host= "$work/hosts.ini")
  for ((i = 1; i <= RUNS; i++)); do
    ctl_runs+=("$(run_ctl "$inv")")
    ansible_runs+=("$(run_ansible "$work/hosts.ini" "$forks")")
  done
  local ctl_med ans_med
  ctl_med=$(printf '%s\n' "${ctl_runs[@]}" | cut -d' ' -f1 | median)
  ans_med=$(printf '%s\n' "${ansible_runs[@]}" | cut -d' ' -f1 | median)
  printf '%-32s hosts=%-3s concurrency=%-3s ctl %6s ms  ansible %6s ms  ansible/ctl %s\n' \
    "$label" "$count" "$forks" "$ctl_med" "$ans_med" "$(awk -v a="$ans_med" -v c="$ctl_med" 'BEGIN {printf "%.2f", a / c}')"
  printf '    ctl runs:     %s\n' "${ctl_runs[@]}"
  printf '    ansible runs: %s\n' "${ansible_runs[@]}"
}

echo "Bringing lab instance $INSTANCE up with 30 sshd-only hosts (idempotent)..." >&2
CTL_LAB_INSTANCE=$INSTANCE "$CTL" lab up --hosts 30 --no-docker --json >/dev/null
inv30=.lab/lab${INSTANCE}-30.yml
[ -f "$inv30" ] || { echo "no $inv30 after lab up" >&2; exit 2; }

echo "ctl check run <inv> ssh disk-free memory clock-skew  vs  ansible -m shell (same programs); median of $RUNS runs, ANSIBLE_PIPELINING=${ANSIBLE_PIPELINING:-True}; load average now: $(cut -d" " -f1-3 /proc/loadavg)"
bench "3 hosts (inventories/lab.yml)" inventories/lab.yml
bench "30 hosts ($inv30)" "$inv30"

# For reference: the whole preflight on the 3-host lab (every check, not only the SSH-level ones).
start=$(now_ms)
"$CTL" check preflight lab --json >"$work/full.json" 2>/dev/null || true
end=$(now_ms)
echo "full ctl check preflight lab: $((end - start)) ms, $(jq -r '.summary | "\(.pass) pass, \(.warn) warn, \(.fail) fail, \(.error) could not run"' "$work/full.json")"
