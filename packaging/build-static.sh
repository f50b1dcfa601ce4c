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
# A separate scratch path: the static build does not invalidate the ordinary .build/release.
scratch=${SCRATCH:-.build-static}
mkdir -p out/static
for p in "${products[@]}"; do
  # --no-export-dynamic: SwiftPM exports every symbol of an executable (so tests can link it); a
  # shipped binary needs none, and the dynamic symbol table is 0.4 MB of filamentd (decision 0511).
  # --icf=safe: identical functions whose address is never taken are folded (0.12 MB; decision 0726).
  swift build -c release --scratch-path "$scratch" --product "$p" --static-swift-stdlib -Xlinker -s \
    -Xlinker --no-export-dynamic -Xlinker --icf=safe
  install -m 0755 "$scratch/release/$p" "out/static/$p"
  strip "out/static/$p" 2>/dev/null || true
  printf '%s\t%s bytes\n' "$p" "$(stat -c %s "out/static/$p")"
done
