#!/usr/bin/env bash
# Builds stripped release binaries with the Swift standard library linked statically.
# libsodium and libnl are linked from their static archives when present (Debian's -dev packages
# ship them), so the binaries need only glibc on the target.
# Usage: packaging/build-static.sh [product ...]   (default: filamentd filamentctl)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
products=("$@")
[ ${#products[@]} -eq 0 ] && products=(filamentd filamentctl)
mkdir -p out/static
for p in "${products[@]}"; do
  swift build -c release --product "$p" --static-swift-stdlib -Xlinker -s
  install -m 0755 ".build/release/$p" "out/static/$p"
  strip "out/static/$p" 2>/dev/null || true
  printf '%s\t%s bytes\n' "$p" "$(stat -c %s "out/static/$p")"
done
