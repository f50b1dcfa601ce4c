#!/usr/bin/env bash
# Reproduces every table of the "Emulation lab" section of docs/benchmarks.md with one command:
# installs what the lab needs (scripts/setup.sh lab: babeld, yggdrasil, iperf3, nftables, ...),
# builds release filamentd, filamentctl and filament-lab, runs every experiment for filamentd,
# babeld and yggdrasil, writes the results as JSON lines under firmware-sim/lab/results/ and
# regenerates the tables (goals, side by side, scale) in docs/benchmarks.md between the
# filament-lab markers. Needs root.
#
# Usage: sudo firmware-sim/lab/reproduce.sh [--scale | --scale-only | --cleanup]
#   (no option)   7x7 grid: cold start, steady overhead + RSS/PSS/CPU, relay failure (filamentd,
#                 babeld, yggdrasil); gateway failover (filamentd); TCP over 3 hops (filamentd with
#                 the default and the jumbo TUN MTU, yggdrasil, kernel forwarding); 10x10 cold start
#                 (filamentd, babeld). About 10 minutes.
#   --scale       the above, then the scale series (grids 10x10 .. 30x30, filamentd and babeld;
#                 each series stops at the first size below 99 % reachability). Up to ~40 minutes more.
#   --scale-only  only the scale series; the tables use the newest comparison results present.
#   --cleanup     remove leftovers of lab runs whose process is gone (namespaces fl<pid>-*, the
#                 processes in them, saved neighbour-table limits) and exit.
# Environment: SCALE_SIDES (default 10,15,20,25,30), SCALE_TIMEOUT (seconds per size, default 180).
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=compare
case "${1:-}" in
  "") ;;
  --scale) mode=both ;;
  --scale-only) mode=scale ;;
  --cleanup) mode=cleanup ;;
  *) echo "usage: $0 [--scale | --scale-only | --cleanup]" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then echo "reproduce.sh: needs root (network namespaces)" >&2; exit 1; fi

lab=.build/release/filament-lab
if [ "$mode" = cleanup ]; then
  [ -x "$lab" ] || lab=.build/debug/filament-lab
  exec "$lab" cleanup
fi

scripts/setup.sh lab
# The daemon measured is the one a bulb runs: the stripped static release binary that
# packaging/build-static.sh makes (decisions 0511/0513), not SwiftPM's dynamically linked
# .build/release one (13 MiB RSS, and dynamic linking at every start). FILAMENT_BIN overrides.
if [ -z "${FILAMENT_BIN:-}" ]; then
  packaging/build-static.sh filamentd filamentctl
  export FILAMENT_BIN="$PWD/out/static"
fi
swift build -c release --product filament-lab

results=firmware-sim/lab/results
mkdir -p "$results"
stamp=$(date -u +%Y-%m-%dT%H%MZ)
child=""
finish() {
  status=$?
  trap - EXIT INT TERM
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true   # the lab tears itself down on SIGTERM
    wait "$child" 2>/dev/null || true
  fi
  "$lab" cleanup >/dev/null 2>&1 || true       # only fl<pid>- namespaces whose process is gone
  left=$(ip netns list | grep -c '^fl[0-9]' || true)
  [ "$left" -eq 0 ] || echo "reproduce.sh: $left lab namespaces still present (ip netns list)" >&2
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Runs the lab in the background so a signal to this script reaches the trap at once.
lab_run() { "$lab" "$@" & child=$!; wait "$child"; child=""; }

# Which code was measured: the tree's commit and the last commit that touched the routing engine.
run_info() {
  local rev engine dirty=""
  rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  engine=$(git log -1 --format='%h %cs' -- Sources/FilamentEngine 2>/dev/null || echo unknown)
  git diff --quiet HEAD -- Sources 2>/dev/null || dirty=" (with uncommitted changes in Sources/)"
  printf '{"experiment":"run-info","daemon":"-","topology":"-","date":"%s","load_avg_1m":%s,"note":"%s: %s at commit %s%s, engine last changed in %s; %s cores; %s"}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(cut -d' ' -f1 /proc/loadavg)" "$(date -u +%Y-%m-%d\ %H:%M)" "$1" "$rev" "$dirty" \
    "$engine" "$(nproc)" "$(uname -r)" >> "$2"
}

if [ "$mode" != scale ]; then
  compare="$results/$stamp-compare.jsonl"
  echo "reproduce.sh: comparisons -> $compare" >&2
  run_info "comparisons" "$compare"
  lab_run compare --grid grid:7x7 --out "$compare"
fi
if [ "$mode" != compare ]; then
  scale="$results/$stamp-scale.jsonl"
  echo "reproduce.sh: scale series -> $scale" >&2
  run_info "scale series" "$scale"
  for daemon in filamentd babeld; do
    lab_run scale --daemon "$daemon" --sides "${SCALE_SIDES:-10,15,20,25,30}" \
      --timeout "${SCALE_TIMEOUT:-180}" --out "$scale"
  done
fi
newest() { ls -t "$results"/*-"$1".jsonl 2>/dev/null | head -1 || true; }
files=()
c=$(newest compare); [ -n "$c" ] && files+=("$c")
s=$(newest scale); [ -n "$s" ] && files+=("$s")
"$lab" tables "${files[@]}" --update docs/benchmarks.md >/dev/null
echo "reproduce.sh: tables from ${files[*]} written to docs/benchmarks.md" >&2
