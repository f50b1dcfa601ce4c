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
# libsodium, libnl-3, libnl-route-3 and libyaml from their static archives, so that only the
# archive members the daemon uses are linked instead of each whole shared library being mapped at
# run time (idle RSS; decision 0511). SwiftPM takes these libraries' link flags from pkg-config:
# copies of their .pc files with "-l:libX.a" come first on PKG_CONFIG_PATH; the modulemaps' `link`
# lines (autolinked "-lsodium" etc., which would find the .so first) are switched off.
# Opt-in (STATIC_C_LIBS=1): measured -0.7 MB idle RSS but +0.5 MB binary, over the 8 MB goal.
# FULL_STATIC=1 (implies STATIC_C_LIBS=1): a fully static executable (-static-executable: glibc,
# libstdc++ and libm from their archives, no ld.so): 6.7 MB idle RSS instead of 9.7, but a 9.2 MB
# binary, and `control_group` (getgrnam) then needs the target's libnss_files of the same glibc
# (decision 0511). Opt-in until both goals are met by one build.
static_c=()
[ "${FULL_STATIC:-0}" = 1 ] && STATIC_C_LIBS=1 && static_c+=(-Xswiftc -static-executable)
if [ "${STATIC_C_LIBS:-0}" = 1 ]; then
  pcdir="$scratch/static-c-libs"
  rm -rf "$pcdir"; mkdir -p "$pcdir"
  for pc in libsodium libnl-3.0 libnl-route-3.0 yaml-0.1; do
    src=$(pkg-config --variable=pcfiledir "$pc")/$pc.pc
    sed -E 's/^(Libs:.*) -l([A-Za-z0-9_-]+)/\1 -l:lib\2.a/' "$src" > "$pcdir/$pc.pc"
    libdir=$(pkg-config --variable=libdir "$pc")
    lib=$(sed -nE 's/^Libs:.*-l:(lib[^ ]+\.a).*/\1/p' "$pcdir/$pc.pc")
    [ -f "$libdir/$lib" ] || { echo "build-static: $libdir/$lib missing (install the -dev package)" >&2; exit 1; }
  done
  export PKG_CONFIG_PATH="$PWD/$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  for l in sodium nl-3 nl-route-3 yaml; do
    static_c+=(-Xswiftc -Xfrontend -Xswiftc -disable-autolink-library -Xswiftc -Xfrontend -Xswiftc "$l")
  done
fi
for p in "${products[@]}"; do
  # --no-export-dynamic: SwiftPM exports every symbol of an executable (so tests can link it); a
  # shipped binary needs none, and the dynamic symbol table is 0.4 MB of filamentd (decision 0511).
  # --icf=safe: identical functions whose address is never taken are folded (0.12 MB; decision 0726).
  swift build -c release --scratch-path "$scratch" --product "$p" --static-swift-stdlib -Xlinker -s \
    -Xlinker --no-export-dynamic -Xlinker --icf=safe ${static_c[@]+"${static_c[@]}"}
  install -m 0755 "$scratch/release/$p" "out/static/$p"
  strip "out/static/$p" 2>/dev/null || true
  printf '%s\t%s bytes\n' "$p" "$(stat -c %s "out/static/$p")"
done
