#!/usr/bin/env bash
# Benchmark: ctl's preflight against Ansible on the same lab hosts, at 3 hosts (the shared lab,
# inventories/lab.yml) and at 30 and 100 sshd-only hosts (separate lab instances, CTL_LAB_INSTANCE,
# made with `ctl lab up --hosts N --no-docker` and taken down at the end unless KEEP_LABS=1).
#
# Two races on each size:
# 1. SSH-level checks: `ctl check run <inv> ssh disk-free memory clock-skew` against one Ansible
#    ad-hoc `shell` command per host running the same programs (uname, df, meminfo, date twice: ctl
#    reads each clock first and last in its one command per host).
# 2. The full preflight: `ctl check preflight <inv>` against an Ansible playbook checking the same
#    things the way its users write one: facts gathered (`gather_facts: true`, the default), one task
#    per check (ping, docker version, disk and memory from the facts, date against the controller's, wait_for on the Swarm
#    ports, docker node ls/inspect and service ls on a manager, /health with uri, the Galera status
#    with the mariadb client, Patroni's and Vault's REST APIs with uri, etcdctl, find for backups).
#    On the sshd-only labs the Swarm and database tasks skip, as ctl's checks do. ctl's placement
#    check (stack files against the labels) has no task: Ansible has nothing for it.
# Both verify host keys against the lab's known_hosts, use the lab key and work on as many hosts at
# once (ctl: the inventory's ssh.concurrency; Ansible: --forks). Each side starts cold (Ansible: an
# empty ControlPersist socket directory per run). Prints the median wall time of RUNS runs of each,
# their ratio, each run's outcome, and ctl's peak memory (/usr/bin/time -v). Only lab addresses are
# targets.
#
# Usage: bench/preflight-vs-ansible.sh   (RUNS=3 INSTANCE=16 SIZES="3 30 100" by default; Linux, root)
#        INSTANCE and INSTANCE+1 are the 30- and 100-host labs.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
INSTANCE=${INSTANCE:-16}
SIZES=${SIZES:-3 30 100}
CTL=./bin/run.js
# What runs `ctl lab ...` (another checkout's lab plugin, e.g., while the lab package is being changed).
read -r -a LAB_CTL <<<"${LAB_CTL:-$CTL}"
export CTL_NONINTERACTIVE=1
command -v ansible >/dev/null || { echo "ansible is not installed: apt-get install ansible-core" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq is not installed" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is not installed: apt-get install time" >&2; exit 2; }

work=$(mktemp -d /tmp/ctl-bench-XXXXXX)
labs=()
cleanup() {
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work files kept in $work" >&2; else rm -rf "$work"; fi
  [ "${KEEP_LABS:-0}" = 1 ] && return
  for id in "${labs[@]}"; do CTL_LAB_INSTANCE=$id "${LAB_CTL[@]}" lab down --yes >/dev/null 2>&1 || echo "lab down of instance $id failed" >&2; done
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

# An Ansible inventory of the ctl inventory's nodes (lab addresses only), with its key and known_hosts,
# and groups for the playbook: swarm, managers, galera, patroni, etcd, vault, backup_<database>.
ansible_inventory() {
  local inv=$1 out=$2 shown
  shown=$("$CTL" inventory show "$inv" --json)
  if echo "$shown" | jq -e '[.inventory.nodes[].address | test("^198\\.18\\.")] | all | not' >/dev/null; then
    echo "refusing: $inv has addresses outside the lab's 198.18.0.0/16" >&2
    exit 2
  fi
  echo "$shown" | jq -r --arg invdir "$(cd "$(dirname "$inv")" && pwd)" '
    .inventory as $i
    | ($i.nodes | map({key: .name, value: .address}) | from_entries) as $address
    | def members($path): ($path // []) | map(.node);
    def group($name; $hosts): "[\($name)]", ($hosts | unique[]);
    "[hosts]",
    ($i.nodes[] | "\(.name) ansible_host=\(.address) docker_sock=\(.docker.socket // "/var/run/docker.sock")"),
    group("swarm"; [$i.nodes[] | select(.role != "none") | .name]),
    group("managers"; [$i.nodes[] | select(.role == "manager") | .name]),
    "[galera]", (($i.databases.galera.members // [])[] | "\(.node) galera_socket=\(.socket)"),
    "[patroni]", (($i.databases.patroni.members // [])[] | "\(.node) patroni_port=\(.restPort)"),
    "[etcd]", (($i.databases.etcd.members // [])[] | "\(.node) etcd_port=\(.clientPort)"),
    "[vault]", (($i.vault.members // [])[] | "\(.node) vault_url=\(.scheme)://\($address[.node]):\(.port)"),
    group("backup_mariadb"; if $i.databases.galera then ([$i.databases.galera.backupNode // empty] | if length > 0 then . else members($i.databases.galera.members) end) else [] end),
    group("backup_postgres"; if $i.databases.patroni then ([$i.databases.patroni.backupNode // empty] | if length > 0 then . else members($i.databases.patroni.members) end) else [] end),
    "[all:vars]",
    "ansible_user=\($i.ssh.user)",
    "ansible_port=\($i.ssh.port)",
    "ansible_ssh_private_key_file=\($i.ssh.key)",
    "ansible_ssh_common_args=\"-o UserKnownHostsFile=\($i.ssh.knownHosts) -o StrictHostKeyChecking=yes -o ConnectTimeout=5\"",
    "ansible_python_interpreter=/usr/bin/python3",
    "min_disk_mb=\($i.limits.minDiskFreeMb)",
    "disk_path=\($i.limits.diskPath)",
    "min_mem_mb=\($i.limits.minMemAvailableMb)",
    "max_skew_s=\(($i.limits.maxClockSkewMs / 1000) | ceil)",
    "rpo_hours=\($i.backups.rpoHours)",
    "galera_user=\($i.databases.galera.user // "")",
    "galera_password_file=\(($i.databases.galera.password // "") | sub("^file:"; "") | if . == "" or startswith("/") then . else "\($invdir)/\(.)" end)",
    "mariadb_backup_dir=\($i.databases.galera.backupDir // "")",
    "postgres_backup_dir=\($i.databases.patroni.backupDir // "")",
    "galera_size=\(($i.databases.galera.members // []) | length)"
  ' >"$out"
  echo "$shown" | jq -r '.inventory.ssh.concurrency'
}

# The playbook as Ansible users write a preflight: one task per check, facts gathered.
cat >"$work/preflight.yml" <<'EOF'
- name: Preflight
  hosts: all
  gather_facts: true
  tasks:
    - name: ssh reachable
      ansible.builtin.ping:
    - name: docker-engine version
      ansible.builtin.command: docker -H unix://{{ docker_sock }} version --format '{% raw %}{{.Server.Version}}{% endraw %}'
      changed_when: false
      when: "'swarm' in group_names"
    - name: disk-free
      ansible.builtin.assert:
        that: (ansible_mounts | selectattr('mount', 'equalto', disk_path) | first).size_available >= (min_disk_mb | int) * 1048576
        quiet: true
    - name: memory
      ansible.builtin.assert:
        that: ansible_memory_mb.nocache.free >= (min_mem_mb | int)
        quiet: true
    # The controller's clock is read when the task is templated for the host, just before it runs there.
    - name: clock-skew
      ansible.builtin.shell: echo $(( $(date +%s) - {{ lookup('pipe', 'date +%s') }} ))
      register: skew
      changed_when: false
      failed_when: (skew.stdout | int) | abs > (max_skew_s | int)
    - name: swarm-ports (TCP 2377 on managers, 7946 on peers)
      ansible.builtin.wait_for:
        host: "{{ item.0 }}"
        port: "{{ item.1 }}"
        timeout: 2
      loop: >-
        {{ (groups['managers'] | difference([inventory_hostname]) | map('extract', hostvars, 'ansible_host') | product([2377]) | list)
           + (groups['swarm'] | difference([inventory_hostname]) | map('extract', hostvars, 'ansible_host') | product([7946]) | list) }}
      when: "'swarm' in group_names"
    - name: swarm nodes Ready and Active
      ansible.builtin.command: docker -H unix://{{ docker_sock }} node ls --format '{% raw %}{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}{% endraw %}'
      register: swarm_nodes
      changed_when: false
      failed_when: swarm_nodes.rc != 0 or (swarm_nodes.stdout_lines | reject('search', 'Ready Active') | list | length) > 0
      when: "'managers' in group_names"
    - name: node-labels
      ansible.builtin.shell: docker -H unix://{{ docker_sock }} node inspect --format '{% raw %}{{.Description.Hostname}} {{json .Spec.Labels}}{% endraw %}' $(docker -H unix://{{ docker_sock }} node ls -q)
      changed_when: false
      when: "'managers' in group_names"
    - name: service-health (replicas)
      ansible.builtin.command: docker -H unix://{{ docker_sock }} service ls --format '{% raw %}{{.Name}} {{.Replicas}}{% endraw %}'
      changed_when: false
      when: "'managers' in group_names"
    # The app's tasks (host-mode 8080) run on some nodes only; the legacy service (5080) on every host.
    - name: service-health (/health of each service on each Swarm node)
      ansible.builtin.uri:
        url: http://{{ ansible_host }}:{{ item }}/health
        timeout: 2
      loop: [8080, 5080]
      when: "'swarm' in group_names"
      ignore_errors: true
    - name: galera
      ansible.builtin.command: mariadb --socket={{ galera_socket }} -u {{ galera_user }} -N -e "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_status','wsrep_local_state_comment','wsrep_cluster_size')"
      environment:
        MYSQL_PWD: "{{ lookup('file', galera_password_file) }}"
      register: galera
      changed_when: false
      failed_when: galera.rc != 0 or 'Primary' not in galera.stdout or 'Synced' not in galera.stdout
      when: "'galera' in group_names"
    - name: patroni
      ansible.builtin.uri:
        url: http://{{ ansible_host }}:{{ patroni_port }}/patroni
      when: "'patroni' in group_names"
    - name: etcd
      ansible.builtin.command: etcdctl --endpoints=http://{{ ansible_host }}:{{ etcd_port }} endpoint health
      environment:
        ETCDCTL_API: "3"
      changed_when: false
      when: "'etcd' in group_names"
    - name: vault
      ansible.builtin.uri:
        url: "{{ vault_url }}/v1/sys/health"
        status_code: [200, 429, 472, 473, 501, 503]
      when: "'vault' in group_names"
    - name: backups (mariadb)
      ansible.builtin.find:
        paths: "{{ mariadb_backup_dir }}"
        age: "-{{ rpo_hours }}h"
        file_type: any
      register: mariadb_backups
      failed_when: mariadb_backups.matched == 0
      when: "'backup_mariadb' in group_names"
    - name: backups (postgres)
      ansible.builtin.find:
        paths: "{{ postgres_backup_dir }}"
        age: "-{{ rpo_hours }}h"
        file_type: any
      register: postgres_backups
      failed_when: postgres_backups.matched == 0
      when: "'backup_postgres' in group_names"
EOF

summary() { jq -r '.summary | "\(.pass) pass, \(.warn) warn, \(.fail) fail, \(.error) could not run"' "$1" 2>/dev/null || echo unreadable; }

# Both sides are timed whatever they find; each run's outcome is printed next to its time (a busy
# machine makes SSH slow for both: a run with timeouts still says how long the tool took to answer).
# ctl runs under /usr/bin/time -v for its peak memory (maximum resident set size).
run_ctl() {
  local start end code=0 rss
  start=$(now_ms)
  /usr/bin/time -v -o "$work/ctl.time" "$CTL" "$@" --json >"$work/ctl.json" 2>"$work/ctl.err" || code=$?
  end=$(now_ms)
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$work/ctl.time")
  echo "$((end - start)) ms ${rss} MiB (exit $code: $(summary "$work/ctl.json"))"
}

# The SSH-level programs as one ad-hoc shell command per host; the playbook above.
adhoc() {
  ansible all -i "$1" --forks "$2" -m shell \
    -a 'uname -sr && df -Pk / && grep -E "^(MemTotal|MemAvailable):" /proc/meminfo && date +%s%N && date +%s%N'
}
playbook() { ansible-playbook -i "$1" --forks "$2" "$work/preflight.yml"; }

run_ansible() {
  local how=$1 hosts=$2 forks=$3 start end code=0 cp
  cp=$(mktemp -d "$work/cp-XXXXXX")
  start=$(now_ms)
  ANSIBLE_SSH_CONTROL_PATH_DIR=$cp ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_PIPELINING=${ANSIBLE_PIPELINING:-True} \
    ANSIBLE_DEPRECATION_WARNINGS=False "$how" "$hosts" "$forks" >"$work/ansible.out" 2>&1 || code=$?
  end=$(now_ms)
  local recap
  recap=$(awk '/PLAY RECAP/ {on=1; next} on && /ok=/' "$work/ansible.out")
  if [ -n "$recap" ]; then
    echo "$((end - start)) ms (exit $code: $(echo "$recap" | grep -c 'failed=0 ' || true) hosts without failure, $(echo "$recap" | grep -vc 'unreachable=0 ' || true) unreachable)"
  else
    echo "$((end - start)) ms (exit $code: $(grep -c '| CHANGED |' "$work/ansible.out") ok, $(grep -c 'UNREACHABLE!' "$work/ansible.out") unreachable, $(grep -c '| FAILED' "$work/ansible.out") failed)"
  fi
}

ratio() { awk -v a="$1" -v c="$2" 'BEGIN {printf "%.1f", a / c}'; }

# One race: RUNS runs of each side, medians, ratio and ctl's peak memory.
race() {
  local label=$1 hosts=$2 forks=$3 how=$4 ctl_args=$5 count ctl_runs=() ansible_runs=() i
  count=$(grep -c ansible_host= "$hosts")
  for ((i = 1; i <= RUNS; i++)); do
    # shellcheck disable=SC2086 # ctl's arguments hold no spaces
    ctl_runs+=("$(run_ctl $ctl_args)")
    ansible_runs+=("$(run_ansible "$how" "$hosts" "$forks")")
  done
  local ctl_med ans_med rss_max
  ctl_med=$(printf '%s\n' "${ctl_runs[@]}" | cut -d' ' -f1 | median)
  ans_med=$(printf '%s\n' "${ansible_runs[@]}" | cut -d' ' -f1 | median)
  rss_max=$(printf '%s\n' "${ctl_runs[@]}" | cut -d' ' -f3 | sort -n | tail -n 1)
  printf '%-12s hosts=%-3s concurrency=%-3s ctl %6s ms  ansible %6s ms  ansible/ctl %5sx  ctl peak %s MiB\n' \
    "$label" "$count" "$forks" "$ctl_med" "$ans_med" "$(ratio "$ans_med" "$ctl_med")" "$rss_max"
  printf '    ctl runs:     %s\n' "${ctl_runs[@]}"
  printf '    ansible runs: %s\n' "${ansible_runs[@]}"
  echo "$label $count $ctl_med $ans_med $rss_max" >>"$work/results"
}

bench() {
  local inv=$1 hosts=$work/hosts-$2.ini forks
  forks=$(ansible_inventory "$inv" "$hosts")
  race "ssh-level" "$hosts" "$forks" adhoc "check run $inv ssh disk-free memory clock-skew"
  race "full" "$hosts" "$forks" playbook "check preflight $inv"
}

# Brings lab instance $1 up with $2 sshd-only hosts and races on it (not in a subshell: `labs` lists what to take down).
bench_lab() {
  local id=$1 count=$2 inv=.lab/lab$1-$2.yml
  echo "Bringing lab instance $id up with $count sshd-only hosts (idempotent)..." >&2
  labs+=("$id")
  CTL_LAB_INSTANCE=$id "${LAB_CTL[@]}" lab up --hosts "$count" --no-docker --json >/dev/null
  [ -f "$inv" ] || { echo "no $inv after lab up" >&2; exit 2; }
  bench "$inv" "$count"
}

echo "ctl vs Ansible, median of $RUNS runs, ANSIBLE_PIPELINING=${ANSIBLE_PIPELINING:-True}; load average now: $(cut -d" " -f1-3 /proc/loadavg)"
for size in $SIZES; do
  case $size in
    3) bench inventories/lab.yml 3 ;;
    30) bench_lab "$INSTANCE" 30 ;;
    100) bench_lab $((INSTANCE + 1)) 100 ;;
    *) echo "sizes are 3, 30 and 100, not $size" >&2; exit 2 ;;
  esac
done

# Against the issue's targets: ssh-level >=5x Ansible at 30 and 100; full >=20x the playbook; 100 hosts <=3x 30 hosts; peak <=200 MiB at 100.
echo
echo "Summary (median ms):"
awk '{printf "  %-10s %4s hosts: ctl %6s  ansible %7s  ansible/ctl %5.1fx  ctl peak %s MiB\n", $1, $2, $3, $4, $4 / $3, $5}' "$work/results"
awk '$2 == 30 {t30[$1] = $3} $2 == 100 {t100[$1] = $3} END {for (k in t100) if (k in t30) printf "  %-10s ctl at 100 hosts / at 30 hosts: %.2fx\n", k, t100[k] / t30[k]}' "$work/results"
