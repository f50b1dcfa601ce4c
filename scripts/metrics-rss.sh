#!/bin/bash
# RSS of one idle filamentd with and without metrics_listen (after 3 scrapes), 3 pairs; namespaces
# ctlrss-PID-*, deleted on exit. Needs root and a build (B=.build/release for release). Decision 0723.
set -u
B=${B:-$(cd "$(dirname "$0")/.." && pwd)/.build/debug}
P=ctlrss-$$
D=/tmp/$P
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3; for n in $(ip netns list | awk '{print $1}' | grep "^$P-"); do ip netns del $n; done; rm -rf $D; }
trap cleanup EXIT INT TERM
mkdir -p $D; chmod 700 $D
for run in 1 2 3; do for mode in off on; do
  ns=$P-$mode$run; ip netns add $ns; ip -n $ns link set lo up; mkdir -m 700 $D/s$mode$run
  printf 'interfaces: ["v*"]\nstate_dir: %s\ncontrol_socket: %s\n' $D/s$mode$run $D/c$mode$run.sock > $D/$mode$run.yaml
  [ $mode = on ] && echo 'metrics_listen: "127.0.0.1:9465"' >> $D/$mode$run.yaml
  ip netns exec $ns $B/filamentd --config $D/$mode$run.yaml > $D/log$mode$run 2>&1 & PIDS+=($!)
  sleep 2
  [ $mode = on ] && for k in 1 2 3; do ip netns exec $ns curl -s http://127.0.0.1:9465/metrics > /dev/null; done
  sleep 0.5
  pid=$(pgrep -f "^$B/filamentd --config $D/$mode$run.yaml")
  echo "run $run metrics $mode: $(grep VmRSS /proc/$pid/status)"
done; done
