#!/usr/bin/env bash
# Builds stripped release binaries with the Swift standard library linked statically.
# Usage: packaging/build-static.sh [product ...]   (default: filamentd filamentctl)
#
# The default build is the one that meets both goals of filamentd (decision 0513): a stripped
# binary under 8 MB and under 8 MB of idle RSS. It needs only glibc (>= 2.36, for DT_RELR) and
# libm/libgcc_s on the target: the Swift runtime, libstdc++, libsodium, libnl-3, libnl-route-3 and
# libyaml are linked from their static archives. Switches (environment, default in brackets):
#   STATIC_C_LIBS [1]     libsodium, libnl-3, libnl-route-3, libyaml from their .a (0: shared)
#   STATIC_LIBSTDCXX [1]  libstdc++ from its .a (0: shared libstdc++.so)
#   RELR [1]              -z pack-relative-relocs (0: classic relocations, for glibc < 2.36)
#   TEXT_ORDER [packaging/filamentd.order]  hot-code list for lld; "none" links without one
#   FULL_STATIC [0]       1: fully static executable (glibc too, no ld.so; decision 0511)
#   LINK_MAP              write lld's map (symbols not demangled) of the last product to this file
#   SCRATCH [.build-static]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
products=("$@")
[ ${#products[@]} -eq 0 ] && products=(filamentd filamentctl)
# A separate scratch path: the static build does not invalidate the ordinary .build/release.
scratch=${SCRATCH:-.build-static}
mkdir -p out/static "$scratch"
# SwiftPM does not recompile every module when only -Xswiftc flags change (measured: modules built
# without -function-sections stayed in the scratch path). A stamp of the compile settings forces a
# clean build of the scratch path when they differ from the last build's.
stamp="$scratch/build-static.settings"
settings="layout-2 full=${FULL_STATIC:-0} c=${STATIC_C_LIBS:-1}"
if [ "$(cat "$stamp" 2>/dev/null)" != "$settings" ]; then
  swift package --scratch-path "$scratch" clean
  echo "$settings" > "$stamp"
fi
static=()
# FULL_STATIC=1: -static-executable (glibc, libstdc++ and libm from their archives, no ld.so):
# lowest RSS but 1.2 MB more binary than the default, and `control_group` (getgrnam) then needs
# the target's libnss_files of the same glibc (decision 0511).
if [ "${FULL_STATIC:-0}" = 1 ]; then
  STATIC_C_LIBS=1; STATIC_LIBSTDCXX=0
  static+=(-Xswiftc -static-executable)
fi
# libsodium, libnl-3, libnl-route-3 and libyaml from their static archives, so that only the
# archive members the daemon uses are linked (and placed by the hot-code order) instead of each
# whole shared library being mapped and relocated at run time (idle RSS; decisions 0511, 0513).
# SwiftPM takes these libraries' link flags from pkg-config: copies of their .pc files with
# "-l:libX.a" come first on PKG_CONFIG_PATH; the modulemaps' `link` lines (autolinked "-lsodium"
# etc., which would find the .so first) are switched off.
if [ "${STATIC_C_LIBS:-1}" = 1 ]; then
  pcdir="$scratch/static-c-libs"
  rm -rf "$pcdir"; mkdir -p "$pcdir"
  # sodium_init()'s calls into Argon2 and Salsa20, which filamentd never uses, answered without
  # linking their 34 KB: packaging/libsodium-unused.c, on the link line just before libsodium.a so
  # that it comes first (a real use of either fails the link; decision 0804).
  cc -O2 -c packaging/libsodium-unused.c -o "$pcdir/libsodium-unused.o"
  for pc in libsodium libnl-3.0 libnl-route-3.0 yaml-0.1; do
    src=$(pkg-config --variable=pcfiledir "$pc")/$pc.pc
    sed -E 's/^(Libs:.*) -l([A-Za-z0-9_-]+)/\1 -l:lib\2.a/' "$src" > "$pcdir/$pc.pc"
    [ "$pc" = libsodium ] && sed -i -E "s#^(Libs:.*) -l:libsodium\.a#\\1 -L$PWD/$pcdir -l:libsodium-unused.o -l:libsodium.a#" "$pcdir/$pc.pc"
    libdir=$(pkg-config --variable=libdir "$pc")
    lib=$(sed -nE 's/^Libs:.*-l:(lib[^ ]+\.a).*/\1/p' "$pcdir/$pc.pc")
    [ -f "$libdir/$lib" ] || { echo "build-static: $libdir/$lib missing (install the -dev package)" >&2; exit 1; }
  done
  export PKG_CONFIG_PATH="$PWD/$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"

  for l in sodium nl-3 nl-route-3 yaml; do
    static+=(-Xswiftc -Xfrontend -Xswiftc -disable-autolink-library -Xswiftc -Xfrontend -Xswiftc "$l")
  done
fi
# libstdc++ (the Swift runtime's C++) from its archive while glibc stays shared: libstdc++.so is
# 0.95 MB of idle RSS, the members the runtime uses 64 KB of binary. The toolchain's link line says
# -lstdc++, which finds the .so first; a directory searched before the system's holds a
# "libstdc++.so" that is a linker script naming the archive.
if [ "${STATIC_LIBSTDCXX:-1}" = 1 ]; then
  cxxdir="$PWD/$scratch/static-libstdcxx"
  mkdir -p "$cxxdir"
  cxxa=$(g++ -print-file-name=libstdc++.a 2>/dev/null || clang -print-file-name=libstdc++.a)
  [ -f "$cxxa" ] || { echo "build-static: libstdc++.a missing (install libstdc++-12-dev)" >&2; exit 1; }
  echo "INPUT($(readlink -f "$cxxa"))" > "$cxxdir/libstdc++.so"
  static+=(-Xlinker -L -Xlinker "$cxxdir")
fi
# Code layout (decision 0513): lld instead of gold; every function in its own section
# (-function-sections) and the sections that start-up and the idle daemon touch placed first,
# contiguous (packaging/filamentd.order, written by scripts/filamentd-text-order.sh; symbols it
# names that no longer exist are skipped). The kernel maps the page-cache neighbours of every
# faulting code page (fault-around), so scattered hot code keeps most of .text resident; packed,
# it does not.
# -z pack-relative-relocs (DT_RELR): the PIE's 18,000 relative relocations in 3 KB instead of the
# 0.43 MB that ld.so reads at every start; the binary then needs glibc >= 2.36 (an older ld.so
# refuses it by name: GLIBC_ABI_DT_RELR).
# packaging/filamentd-layout.ld: private-name code sections first, .text after .plt, and the
# runtime's 64 KB zero-filled swift5_backtrace section
# allocated like .bss instead of stored in the file. -O2: lld also merges string tails.
# -internalize-at-link (decision 0514): swiftc marks every public function "used" (SHF_GNU_RETAIN on
# ELF), so --gc-sections kept all public API of the libraries, called by filamentd or not (YAMLWriter
# and libyaml's emitter, decoders only filamentctl and the tests use, ...); the binary is linked whole
# (SwiftPM, one link, no dlopen, no exported symbols), so only what a retained record, the entry
# point or a relocation reaches stays.
layout=(-Xswiftc -Xfrontend -Xswiftc -function-sections -Xswiftc -Xfrontend -Xswiftc -internalize-at-link
        -Xswiftc -use-ld=lld -Xlinker -O2
        -Xlinker -T -Xlinker "$PWD/packaging/filamentd-layout.ld")
[ "${RELR:-1}" = 1 ] && layout+=(-Xlinker -z -Xlinker pack-relative-relocs)
order=${TEXT_ORDER:-$PWD/packaging/filamentd.order}
[ "$order" != none ] && layout+=(-Xlinker "--symbol-ordering-file=$(readlink -f "$order")" -Xlinker --no-warn-symbol-ordering)
[ -n "${LINK_MAP:-}" ] && layout+=(-Xlinker "-Map=$LINK_MAP" -Xlinker --no-demangle)
for p in "${products[@]}"; do
  # --no-export-dynamic: SwiftPM exports every symbol of an executable (so tests can link it); a
  # shipped binary needs none, and the dynamic symbol table is 0.4 MB of filamentd (decision 0511).
  # --icf=safe: identical functions whose address is never taken are folded (0.12 MB; decision 0726).
  swift build -c release --scratch-path "$scratch" --product "$p" --static-swift-stdlib -Xlinker -s \
    -Xlinker --no-export-dynamic -Xlinker --icf=safe "${layout[@]}" ${static[@]+"${static[@]}"}
  install -m 0755 "$scratch/release/$p" "out/static/$p"
  strip "out/static/$p" 2>/dev/null || true
  printf '%s\t%s bytes\n' "$p" "$(stat -c %s "out/static/$p")"
done
