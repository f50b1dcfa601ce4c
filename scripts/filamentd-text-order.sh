#!/bin/bash
# Writes packaging/filamentd.order, the hot-code list that packaging/build-static.sh gives lld
# (decision 0513): builds filamentd without an order (TEXT_ORDER=none, with lld's map), runs the
# idle two-daemon mesh of scripts/filamentd-idle-rss.sh with scripts/pagetrace.c preloaded into the
# daemons (every code page they touch from start-up to SETTLE seconds of idle is recorded once,
# exactly, without fault-around), then the same in a 50-node lab mesh (LAB=grid:10x5 by default:
# cold start with pings across the mesh and 20 s steady, `filament-lab run`, LAB_RUNS=3 runs with
# different pair seeds; LAB=none skips it),
# and lists the functions on the pages any daemon touched (scripts/text-order.py). Then rebuilds the
# ordered binary. Needs root (namespaces), gcc, python3 and .build/release/filament-lab.
#   scripts/filamentd-text-order.sh          (SETTLE=12, LAB=grid:10x5 by default)
# Re-run it after larger changes to start-up or the idle loop: functions that are new since the
# list was written are placed among the cold ones (correct, just more resident pages).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/filamentd-order.XXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
TEXT_ORDER=none LINK_MAP="$tmp/filamentd.map" packaging/build-static.sh filamentd
gcc -O2 -Wall -shared -fPIC -o "$tmp/pagetrace.so" scripts/pagetrace.c
bin=$(readlink -f out/static/filamentd)
# Keep the daemons' SIGSEGV handler ours: the Swift runtime's backtracer would take it over.
LD_PRELOAD="$tmp/pagetrace.so" PAGETRACE_EXE="$bin" PAGETRACE_OUT="$tmp/pages" SWIFT_BACKTRACE=enable=no \
    BIN="$bin" SETTLE="${SETTLE:-12}" scripts/filamentd-idle-rss.sh | tee "$tmp/run.log"
grep -q '^neighbour up' "$tmp/run.log" || { echo "filamentd-text-order: the daemons did not meet; no order written" >&2; exit 1; }
lab=${LAB:-grid:10x5}
if [ "$lab" != none ]; then
  mkdir -p "$tmp/bin"
  cp out/static/filamentd "$tmp/bin/filamentd"
  [ -x .build/release/filamentctl ] && cp .build/release/filamentctl "$tmp/bin/"
  for seed in $(seq "${LAB_RUNS:-3}"); do   # different pairs pinged, different daemons asked
    LD_PRELOAD="$tmp/pagetrace.so" PAGETRACE_EXE="$tmp/bin/filamentd" PAGETRACE_OUT="$tmp/pages" \
        SWIFT_BACKTRACE=enable=no FILAMENT_BIN="$tmp/bin" timeout 300 .build/release/filament-lab run \
        --daemon filamentd --topology "$lab" --experiments cold,steady --steady-seconds 20 --pairs 20 \
        --seed "$seed" --out "$tmp/lab$seed.jsonl" > /dev/null
    grep -q '"experiment":"steady"' "$tmp/lab$seed.jsonl" || { echo "filamentd-text-order: lab run $seed failed; no order written" >&2; exit 1; }
  done
  bin="$tmp/bin/filamentd"
fi
python3 scripts/text-order.py "$bin" "$tmp/filamentd.map" "$tmp"/pages.* > "$tmp/order"
install -m 0644 "$tmp/order" packaging/filamentd.order
packaging/build-static.sh filamentd
