#!/bin/sh
# Reproduces every table of the "Emulation lab" section of docs/benchmarks.md in one session:
# builds filamentd, filamentctl and filament-lab (release), then runs `filament-lab compare`
# (7x7 grid: cold start, steady overhead + RSS/CPU, relay failure for filamentd, babeld,
# yggdrasil; TCP over 3 hops for filamentd, yggdrasil, kernel forwarding; 10x10 cold start for
# filamentd and babeld). Needs root and the peers (sudo scripts/setup.sh lab). About 8 minutes.
# Usage: firmware-sim/lab/compare.sh [OUT.jsonl] [extra filament-lab compare options]
set -eu
cd "$(dirname "$0")/../.."
out=${1:-lab-compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
[ $# -gt 0 ] && shift
swift build -c release --product filamentd
swift build -c release --product filamentctl
swift build -c release --product filament-lab
FILAMENT_BIN="$PWD/.build/release" exec .build/release/filament-lab compare --out "$out" "$@"
