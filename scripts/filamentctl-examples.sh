#!/bin/bash
# Captures the example output of docs/filamentctl.md on a 5-node namespace mesh (namespaces ctldoc-PID-N,
# deleted on exit). Needs root and a debug build (swift build). Usage: bash scripts/filamentctl-examples.sh
set -u
B=${B:-$(cd "$(dirname "$0")/.." && pwd)/.build/debug}
P=ctldoc-$$
D=/tmp/$P
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.5; for i in 1 2 3 4 5 net; do ip netns del $P-$i 2>/dev/null; done; rm -rf $D; }
trap cleanup EXIT INT TERM
mkdir -p $D; chmod 700 $D
names=(x kitchen hall stairs attic garden)
for i in 1 2 3 4 5; do ip netns add $P-$i; ip netns exec $P-$i sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; ip -n $P-$i link set lo up; mkdir -m 700 $D/s$i; done
for i in 1 2 3 4; do j=$((i+1)); ip link add v${i}r netns $P-$i type veth peer name v${j}l netns $P-$j; ip -n $P-$i link set v${i}r up; ip -n $P-$j link set v${j}l up; done
ip link add v1c netns $P-1 type veth peer name v3c netns $P-3; ip -n $P-1 link set v1c up; ip -n $P-3 link set v3c up
# garden (node 5) is the gateway, its uplink up5 goes to namespace "net" (documentation addresses only)
ip netns add $P-net
ip link add up5 netns $P-5 type veth peer name net5 netns $P-net
ip -n $P-5 link set up5 up; ip -n $P-net link set net5 up
ip -n $P-5 addr add 192.0.2.2/24 dev up5; ip -n $P-5 addr add 2001:db8:1::2/64 dev up5 nodad
ip -n $P-net addr add 192.0.2.1/24 dev net5; ip -n $P-net addr add 2001:db8:1::1/64 dev net5 nodad
ip -n $P-5 route add default via 192.0.2.1; ip -n $P-5 -6 route add default via 2001:db8:1::1
for i in 1 2 3 4 5; do
  printf 'name: %s\ninterfaces: ["v*"]\nstate_dir: %s\ncontrol_socket: %s\n' ${names[$i]} $D/s$i $D/c$i.sock > $D/n$i.yaml
  [ $i = 1 ] && echo 'metrics_listen: "[::1]:9465"' >> $D/n$i.yaml
  [ $i = 5 ] && printf 'gateway:\n  uplink: up5\n  bandwidth: 100M/20M\n' >> $D/n$i.yaml
  ip netns exec $P-$i timeout 120 $B/filamentd --config $D/n$i.yaml > $D/log$i 2>&1 &
  PIDS+=($!)
done
sleep 8
C="$B/filamentctl --socket $D/c1.sock"
run() { echo "\$ filamentctl $*"; sub=$1; shift; ip netns exec $P-1 $B/filamentctl $sub --socket $D/c1.sock "$@"; echo "[exit $?]"; echo; }
nib() { ip netns exec $P-1 curl -s 'http://[::1]:9465/metrics' | grep 'node_info' | grep -v '^#' | sort; }
echo "# node-information bytes at node 1 before and after one topology gathering (docs/benchmarks.md)"
nib; ip netns exec $P-1 $B/filamentctl topology --json --socket $D/c1.sock > /dev/null; nib
echo
run status
run status --json
run neighbours
run routes
run gateways
run topology
run topology --json
run topology --format dot
run ping garden -c 3 -i 0.2
run traceroute garden
run traceroute garden --json
run doctor
echo "\$ filamentctl gateway drain   (on garden)"; ip netns exec $P-5 $B/filamentctl gateway drain --socket $D/c5.sock; echo "[exit $?]"; echo; sleep 2
run gateways
ip netns exec $P-5 $B/filamentctl gateway undrain --socket $D/c5.sock > /dev/null
( ip netns exec $P-1 timeout 4 $B/filamentctl monitor --socket $D/c1.sock > $D/mon 2>&1 & ); sleep 0.5; ip -n $P-1 link del v1c; sleep 3
echo '$ filamentctl monitor   (then the kitchen–stairs link is cut)'; cat $D/mon; echo
run ping nosuchbulb
echo "$ filamentctl status   (daemon not running)"; $B/filamentctl status --socket /run/filament/absent.sock; echo "[exit $?]"
echo; echo '$ curl -s http://[::1]:9465/metrics | head -30'; ip netns exec $P-1 curl -s 'http://[::1]:9465/metrics' | grep -v '^#' | head -30
echo; for i in 1 2; do echo "node $i"; grep VmRSS /proc/$(pgrep -f "^$B/filamentd --config $D/n$i.yaml" | head -1)/status; done
