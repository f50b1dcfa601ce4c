#!/bin/bash
# Three filamentd in network namespaces in a line (1 -- 2 -- 3, veth, DAD off), then ping6 and
# iperf3 TCP from node 1 to node 3's mesh address (two encrypted hops). Needs root, iperf3.
#   BIN=.build/release scripts/filamentd-line-bench.sh [seconds]
# Namespaces fild-bench-<pid>-N and temp files are removed on every exit; daemons are killed by PID.
set -u
BIN=${BIN:-.build/release}
T=${1:-8}
P=fild-bench-$$
DIR=$(mktemp -d /tmp/$P.XXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for i in 1 2 3; do ip netns del $P-$i 2>/dev/null; done
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
for i in 1 2 3; do
    ip netns add $P-$i
    ip netns exec $P-$i sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip -n $P-$i link set lo up
done
ip link add v12 netns $P-1 type veth peer name v21 netns $P-2
ip link add v23 netns $P-2 type veth peer name v32 netns $P-3
for x in "1 v12" "2 v21" "2 v23" "3 v32"; do set -- $x; ip -n $P-$1 link set $2 up; done
for i in 1 2 3; do
    mkdir -m 700 "$DIR/state$i"
    ip netns exec $P-$i "$BIN/filamentd" --state-dir "$DIR/state$i" --control-socket "$DIR/c$i.sock" \
        --interface 'v*' > "$DIR/log$i" 2>&1 &
    PIDS+=($!)
done
A3=""
for _ in $(seq 50); do
    A3=$(grep -o 'address [^ ]*' "$DIR/log3" 2>/dev/null | head -1 | cut -d' ' -f2)
    [ -n "$A3" ] && ip netns exec $P-1 ping -6 -c 1 -W 1 "$A3" > /dev/null 2>&1 && break
    sleep 0.2
done
echo "node 3: $A3"
ip netns exec $P-1 ping -6 -c 20 -i 0.05 -q "$A3" | tail -1
cpu() { for p in "${PIDS[@]}"; do awk '{print $14+$15}' /proc/$p/stat; done; }
ip netns exec $P-3 timeout $((T + 10)) iperf3 -s -1 > /dev/null 2>&1 &
sleep 0.5
cpu > "$DIR/cpu1"
ip netns exec $P-1 timeout $((T + 10)) iperf3 -c "$A3" -t "$T" 2>&1 | grep -E "sender|receiver"
cpu > "$DIR/cpu2"
paste "$DIR/cpu1" "$DIR/cpu2" | awk -v t="$T" '{printf "daemon %d cpu %.2fs (%.0f%%)\n", NR, ($2-$1)/100, ($2-$1)/t}'
for p in "${PIDS[@]}"; do ps -o rss= -p "$p"; done | tr '\n' ' '; echo "KB RSS"
