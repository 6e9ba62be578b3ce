#!/usr/bin/env bash
# Start-up time of ctl, against a bare `node -e 0` in the same run: RUNS timed runs of each command
# (after one untimed run, which also fills Node's compile cache): median and fastest wall time, the
# ratio of the median to a bare Node 22 (the Node ctl runs on), the median CPU time (user + system, of
# every process of the run: steadier than wall time on a busy machine) and its ratio, and the peak RSS
# (median of 3 runs under GNU time; with a second Node process, the larger of the two).
# Targets (docs/PERFORMANCE.md): `--version` at most 3x a bare node, `inventory validate lab` at most 4x.
# Needs a built ctl (npm run build); reads inventories/lab.yml, touches no host.
#
# Usage: bench/startup.sh            (RUNS=20 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
node22=node_modules/.bin/node
[ -x "$node22" ] || node22=$(command -v node)
gnu_time=/usr/bin/time
[ -x "$gnu_time" ] || echo "note: no GNU time at $gnu_time (apt-get install time): peak RSS is not measured" >&2

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# CPU time of a run: `times` (this shell's finished children, user and system) before and after it,
# written to files by the shell itself, so no helper process of the bench falls in between.
before_file=$(mktemp)
after_file=$(mktemp)
trap 'rm -f "$before_file" "$after_file"' EXIT
cpu_us_between() { awk 'FNR == 2 {for (i = 1; i <= 2; i++) {split($i, t, /[ms]/); s += (FILENAME == ARGV[2] ? 1 : -1) * (t[1] * 60 + t[2])}} END {printf "%d", s * 1000000}' "$before_file" "$after_file"; }

measure() { # command... -> "median_wall_us", "fastest_wall_us", "median_cpu_us" (one a line)
  local start end walls=() cpus=()
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq "$RUNS"); do
    times >"$before_file"
    start=${EPOCHREALTIME/./}
    "$@" >/dev/null 2>&1 || true
    end=${EPOCHREALTIME/./}
    times >"$after_file"
    walls+=($((end - start)))
    cpus+=("$(cpu_us_between)")
  done
  printf '%s\n' "${walls[@]}" | median
  printf '%s\n' "${walls[@]}" | sort -n | head -1
  printf '%s\n' "${cpus[@]}" | median
}

peak_rss_kib() { # command... -> median of 3 peak RSS figures, or "-"
  [ -x "$gnu_time" ] || { echo -; return; }
  local out
  out=$(mktemp)
  for _ in 1 2 3; do
    "$gnu_time" -f %M -o "$out" -a "$@" >/dev/null 2>&1 || true
  done
  tail -n 3 "$out" | median
  rm -f "$out"
}

rows=(
  "bare node (PATH: $(node --version))|node -e 0"
  "bare node ($($node22 --version), ctl's)|$node22 -e 0"
  "ctl --version|./bin/run.js --version"
  "ctl inventory validate lab|./bin/run.js inventory validate lab"
  "ctl --help|./bin/run.js --help"
)

echo "bench/startup.sh: $RUNS runs each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
printf '%-32s %10s %10s %6s %10s %6s %9s\n' command 'wall med' fastest ratio 'CPU med' ratio 'peak RSS'
base= base_cpu=
ms() { awk -v u="$1" 'BEGIN {printf "%.1f", u / 1000}'; }
ratio() { [ -n "$2" ] && awk -v m="$1" -v b="$2" 'BEGIN {printf "%.1fx", m / b}' || echo -; }
for row in "${rows[@]}"; do
  label=${row%%|*}
  read -r -a argv <<<"${row#*|}"
  { read -r med; read -r fast; read -r cpu; } < <(measure "${argv[@]}")
  [[ $label == *"ctl's)" ]] && base=$med base_cpu=$cpu
  rss=$(peak_rss_kib "${argv[@]}")
  [ "$rss" = - ] || rss=$(awk -v k="$rss" 'BEGIN {printf "%.0f MiB", k / 1024}')
  printf '%-32s %7s ms %7s ms %6s %7s ms %6s %9s\n' "$label" "$(ms "$med")" "$(ms "$fast")" "$(ratio "$med" "$base")" "$(ms "$cpu")" "$(ratio "$cpu" "$base_cpu")" "$rss"
done
