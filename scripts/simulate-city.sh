#!/usr/bin/env bash
# The main job: simulate a city of bulbs on the real engine, kill a gateway midway, print the
# summary and write the picture. Installs missing Debian packages, builds in release mode.
# Usage: scripts/simulate-city.sh [extra filament-sim city options]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
mkdir -p out
swift build -c release --product filament-sim
exec .build/release/filament-sim city --bulbs 2000 --gateways 5 --seed 1 --duration 120 \
  --kill-gateway-at 60 --report out/city-report.json --html out/city.html "$@"
