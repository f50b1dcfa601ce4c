#!/bin/bash
# TCP over a line of network namespaces (1 -- 2 -- ... -- N, veth, DAD off), side by side in one run:
# filamentd (default TUN MTU and any --tun-mtu given), yggdrasil and plain kernel forwarding.
# ping6 and iperf3 TCP from node 1 to node N (N-1 hops). Needs root, iperf3 (yggdrasil optional).
#   BIN=.build/release NODES=4 MODES="filamentd filamentd:65000 yggdrasil kernel" scripts/filamentd-line-bench.sh [seconds]
# MODES: filamentd[:TUN_MTU], filamentd-chacha[:TUN_MTU] (link_cipher: chacha20-poly1305, decision 0804;
# plain filamentd is link_cipher: auto), yggdrasil, kernel. Defaults: NODES=4 (3 hops), 4 modes, 8 s.
# Per mode it prints: rtt, iperf3 sender/receiver, CPU per daemon during iperf3, RSS per daemon,
# and the load average before the run (2 cores shared with other work: read figures with it).
# Namespaces fild-bench-<pid>-N and temp files are removed on every exit; processes are killed by PID.
set -u
BIN=${BIN:-.build/release}
T=${1:-8}
NODES=${NODES:-4}
MODES=${MODES:-filamentd filamentd:65000 yggdrasil kernel}
P=fild-bench-$$
DIR=$(mktemp -d /tmp/$P.XXXX)
PIDS=()
teardown() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    PIDS=()
    for i in $(seq "$NODES"); do ip netns del $P-$i 2>/dev/null; done
}
cleanup() { teardown; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

line() {
    for i in $(seq "$NODES"); do
        ip netns add $P-$i
        ip netns exec $P-$i sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
        ip -n $P-$i link set lo up
    done
    for i in $(seq $((NODES - 1))); do
        j=$((i + 1))
        ip link add vr$i netns $P-$i type veth peer name vl$j netns $P-$j
        ip -n $P-$i link set vr$i up
        ip -n $P-$j link set vl$j up
    done
}

cpu() { for p in "${PIDS[@]}"; do awk '{print $14+$15}' /proc/$p/stat 2>/dev/null || echo 0; done; }

measure() { # $1 = destination address
    local dst=$1
    for _ in $(seq 300); do
        ip netns exec $P-1 ping -6 -c 1 -W 1 "$dst" > /dev/null 2>&1 && break
        sleep 0.2
    done
    ip netns exec $P-1 ping -6 -c 20 -i 0.05 -q "$dst" | tail -1
    ip netns exec $P-$NODES timeout $((T + 10)) iperf3 -s -1 > /dev/null 2>&1 &
    local server=$!
    sleep 0.5
    cpu > "$DIR/cpu1"
    ip netns exec $P-1 timeout $((T + 10)) iperf3 -c "$dst" -t "$T" 2>&1 | grep -E "sender|receiver"
    cpu > "$DIR/cpu2"
    wait $server 2>/dev/null
    if [ ${#PIDS[@]} -gt 0 ]; then
        paste "$DIR/cpu1" "$DIR/cpu2" | awk -v t="$T" '{printf "  daemon %d cpu %.2fs (%.0f%%)\n", NR, ($2-$1)/100, ($2-$1)/t}'
        for p in "${PIDS[@]}"; do ps -o rss= -p "$p"; done | tr '\n' ' '; echo "KB RSS"
    fi
}

run_filamentd() { # $1 = TUN MTU or "", $2 = link_cipher or ""
    local extra=()
    [ -n "$1" ] && extra=(--tun-mtu "$1")
    if [ -n "${2:-}" ]; then
        echo "link_cipher: $2" > "$DIR/cipher.yaml"
        extra+=(--config "$DIR/cipher.yaml")
    fi
    for i in $(seq "$NODES"); do
        mkdir -m 700 "$DIR/state$i"
        ip netns exec $P-$i "$BIN/filamentd" --state-dir "$DIR/state$i" --control-socket "$DIR/c$i.sock" \
            --interface 'v*' "${extra[@]}" > "$DIR/log$i" 2>&1 &
        PIDS+=($!)
    done
    local a=""
    for _ in $(seq 50); do
        a=$(grep -o 'address [^ ]*' "$DIR/log$NODES" 2>/dev/null | head -1 | cut -d' ' -f2)
        [ -n "$a" ] && break
        sleep 0.1
    done
    measure "$a"
    echo "  $(grep -m1 -o 'link cipher.*' "$DIR/log1")"
    if [ -n "${COUNTERS:-}" ]; then  # counters about drops and forwarding that are not zero
        for i in $(seq "$NODES"); do
            echo "  node $i: $(python3 - "$DIR/c$i.sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(sys.argv[1])
s.sendall(b'{"version":1,"id":1,"command":"counters","args":{}}\n')
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
c = json.loads(data)["result"]
words = ("drop", "toobig", "noroute", "queue", "replay", "forwarded", "delivered", "received", "sent")
print(" ".join(f"{k}={v}" for k, v in sorted(c.items()) if v and any(w in k.lower() for w in words)))
PY
)"
        done
        for i in $(seq "$NODES"); do  # the kernel's drops: UDP receive buffers, the TUN device's queues
            echo "  node $i kernel: $(ip netns exec $P-$i awk '$1 ~ /Udp6(RcvbufErrors|SndbufErrors|InErrors)/ && $2 > 0 {printf "%s=%s ", $1, $2}' /proc/net/snmp6)$(ip -n $P-$i -s -s link show fil0 2>/dev/null | awk '$1 == "RX:" || $1 == "TX:" {k=$1; getline; printf "fil0 %s dropped=%s ", k, $4}')"
        done
    fi
    rm -rf "$DIR"/state* "$DIR"/log* "$DIR"/c*.sock
}

run_yggdrasil() {
    command -v yggdrasil > /dev/null || { echo "  yggdrasil not installed"; return; }
    for i in $(seq "$NODES"); do
        yggdrasil -genconf -json | python3 -c '
import json, sys
c = json.load(sys.stdin)
c.update(Peers=[], Listen=[], InterfacePeers={}, AdminListen="none", IfName="ygg0",
         MulticastInterfaces=[{"Regex": "^v[lr][0-9]+$", "Beacon": True, "Listen": True, "Port": 0, "Priority": 0}])
json.dump(c, sys.stdout)' > "$DIR/ygg$i.json"
        ip netns exec $P-$i yggdrasil -useconffile "$DIR/ygg$i.json" > "$DIR/ygglog$i" 2>&1 &
        PIDS+=($!)
    done
    measure "$(yggdrasil -useconffile "$DIR/ygg$NODES.json" -address)"
}

run_kernel() { # static routes along the line, link k = fd00:0:0:k::/64
    for i in $(seq "$NODES"); do
        ip netns exec $P-$i sysctl -qw net.ipv6.conf.all.forwarding=1
        [ "$i" -lt "$NODES" ] && ip -n $P-$i addr add fd00:0:0:$i::1/64 dev vr$i nodad
        [ "$i" -gt 1 ] && ip -n $P-$i addr add fd00:0:0:$((i - 1))::2/64 dev vl$i nodad
        for k in $(seq $((NODES - 1))); do
            if [ "$k" -gt "$i" ]; then ip -n $P-$i route add fd00:0:0:$k::/64 via fd00:0:0:$i::2 2>/dev/null
            elif [ "$k" -lt $((i - 1)) ]; then ip -n $P-$i route add fd00:0:0:$k::/64 via fd00:0:0:$((i - 1))::1 2>/dev/null; fi
        done
    done
    measure "fd00:0:0:$((NODES - 1))::2"
}

echo "line of $NODES namespaces ($((NODES - 1)) hops), iperf3 -t $T"
for mode in $MODES; do
    echo "== $mode (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
    line
    case "$mode" in
        filamentd) run_filamentd "" ;;
        filamentd:*) run_filamentd "${mode#filamentd:}" ;;
        filamentd-chacha) run_filamentd "" chacha20-poly1305 ;;
        filamentd-chacha:*) run_filamentd "${mode#filamentd-chacha:}" chacha20-poly1305 ;;
        yggdrasil) run_yggdrasil ;;
        kernel) run_kernel ;;
        *) echo "  unknown mode $mode" ;;
    esac
    teardown
done
