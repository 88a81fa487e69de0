#!/usr/bin/env bash
# The local farm at rest: for each worker count, starts the local background farm (`stagefarm farm serve`, as the
# first `stagefarm build` does), waits until it serves and SETTLE more seconds, then measures its process tree's
# CPU (the farm JVM and its children: slirp4netns of the workers' ready sandbox networks, …) over WINDOW seconds,
# and prints that with its start time (process start -> "serving"), its threads and its resident memory.
#
# Usage: [WINDOW=30] [SETTLE=10] [CLI_DIR=DIR] bench/idle-farm.sh [WORKER COUNTS…]   (default: 8 16 32)
#   CLI_DIR: a built CLI (stagefarm.jar and lib/) to measure instead of this tree's (old/new comparisons)
. "$(dirname "$(readlink -f "$0")")/lib.sh"
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(8 16 32)
window=${WINDOW:-30}
settle=${SETTLE:-10}
bench_workdir idle-farm

mkdir -p "$work/cli"
if [ -n "${CLI_DIR:-}" ]; then
  cp -r "$CLI_DIR/stagefarm.jar" "$CLI_DIR/lib" "$work/cli/"
else
  ./stagefarm --version > /dev/null # builds the CLI when needed, outside the measurement
  cp -r cli/target/stagefarm.jar cli/target/lib "$work/cli/"
fi

printf '%-8s %9s %12s %14s %8s %9s %6s\n' workers "start" "idle CPU" "(% of a core)" threads "RSS" load
for workers in "${counts[@]}"; do
  home=$work/home-$workers
  bench_farm_home "$home"
  mkdir -p "$home/farm"
  t0=$EPOCHREALTIME
  STAGEFARM_HOME=$home "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$work/cli/stagefarm.jar" \
    farm serve --home "$home" --workers "$workers" --idle-timeout 1h > "$home/farm/daemon.log" 2>&1 &
  pid=$!
  for _ in $(seq 1800); do grep -q "local farm serving" "$home/farm/daemon.log" && break; sleep 0.1; done
  grep -q "local farm serving" "$home/farm/daemon.log" || { tail -20 "$home/farm/daemon.log" >&2; exit 1; }
  t1=$EPOCHREALTIME
  sleep "$settle"
  load=$(bench_load)
  c0=$(bench_tree_cpu "$pid")
  sleep "$window"
  c1=$(bench_tree_cpu "$pid")
  threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
  rss=$(awk '/^VmRSS:/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$pid/status")
  printf '%-8s %8.2fs %11.2fs %13.1f%% %8s %9s %6s\n' "$workers" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
    "$(awk -v a="$c0" -v b="$c1" -v w="$window" 'BEGIN { print 100 * (b - a) / w }')" "$threads" "$rss" "$load"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
echo "(idle CPU: the farm's process tree over ${window} s, ${settle} s after it serves; start: process start -> serving;"
echo " $(nproc) cores; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
