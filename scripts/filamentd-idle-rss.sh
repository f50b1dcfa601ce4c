#!/bin/bash
# Idle memory of filamentd (decision 0511's method): two namespaces joined by a veth (DAD off), one
# daemon in each, RSS/PSS/private dirty of the first read from /proc/PID/smaps_rollup after
# SETTLE seconds, and its largest mappings by RSS. Needs root.
#   BIN=out/static/filamentd SETTLE=6 scripts/filamentd-idle-rss.sh
# Namespaces fild-rss-<pid>-{a,b} and the state directories are removed on every exit; the two
# daemons are killed by PID.
set -u
BIN=${BIN:-.build/release/filamentd}
SETTLE=${SETTLE:-6}
P=fild-rss-$$
DIR=$(mktemp -d /tmp/$P.XXXX)
PIDS=()
cleanup() {
    if [ ${#PIDS[@]} -gt 0 ]; then
        kill "${PIDS[@]}" 2>/dev/null
        for _ in $(seq 30); do kill -0 "${PIDS[@]}" 2>/dev/null || break; sleep 0.1; done  # SIGTERM retracts routes first
        kill -9 "${PIDS[@]}" 2>/dev/null
        wait 2>/dev/null
    fi
    ip netns del $P-a 2>/dev/null; ip netns del $P-b 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

for n in a b; do
    ip netns add $P-$n
    ip netns exec $P-$n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip -n $P-$n link set lo up
done
ip link add va netns $P-a type veth peer name vb netns $P-b
ip -n $P-a link set va up
ip -n $P-b link set vb up

for n in a b; do
    mkdir -m 0700 "$DIR/$n"
    ip netns exec $P-$n "$BIN" --state-dir "$DIR/$n" --control-socket "$DIR/$n.sock" --interface 'v*' \
        --tun fil0 > "$DIR/$n.log" 2>&1 &
    PIDS+=($!)
done
sleep "$SETTLE"
PID=${PIDS[0]}
if ! kill -0 "$PID" 2>/dev/null; then echo "daemon a exited:"; cat "$DIR/a.log"; exit 1; fi
printf 'binary %s, %s bytes\n' "$BIN" "$(stat -L -c %s "$BIN")"
grep -E '^(Rss|Pss|Private_Dirty)' /proc/$PID/smaps_rollup
echo "largest mappings (kB RSS):"
awk '/^[0-9a-f]+-/{n=$6; if(n=="")n="[anon]"} /^Rss:/{r[n]+=$2} END{for(n in r) print r[n], n}' /proc/$PID/smaps \
    | sort -rn | head -8
if grep -q 'neighbour .* up' "$DIR/a.log"; then echo "neighbour up"; else echo "WARNING: no neighbour came up"; fi
