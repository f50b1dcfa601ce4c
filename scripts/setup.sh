#!/usr/bin/env bash
# Installs the Debian packages Filament needs, if any are missing.
# Usage: scripts/setup.sh [build|test|lab]
#   build: what compiling needs (libsodium, libnl, libyaml, pkg-config)
#   test:  build + what the namespace integration tests need (iproute2, nftables, ping, iperf3, tcpdump, curl; babeld for the lab test)
#   lab:   test + the peers and tools of the emulation lab (babeld, yggdrasil, iperf3, tcpdump, ping)
set -euo pipefail
profile=${1:-build}
pkgs=(libsodium-dev libnl-3-dev libnl-route-3-dev libyaml-dev pkg-config)
case "$profile" in
  build) ;;
  test) pkgs+=(iproute2 nftables iputils-ping babeld iperf3 tcpdump curl) ;;
  lab) pkgs+=(iproute2 nftables babeld yggdrasil iperf3 tcpdump iputils-ping) ;;
  *) echo "setup.sh: unknown profile '$profile' (build|test|lab)" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Filament needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
