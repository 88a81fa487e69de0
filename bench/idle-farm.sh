#!/usr/bin/env bash
# The local farm at rest: for each worker count, starts the local background farm (`stagefarm farm serve`, as the
# first `stagefarm build` does), waits until it serves and SETTLE more seconds, then measures its process tree's
# CPU (the farm JVM and its children: slirp4netns of the workers' ready sandbox networks, …) over WINDOW seconds,
# and prints that with its start time (process start -> "serving"), its threads and its resident memory, and the
# slirp4netns processes its workers keep ready (the sandbox networks made ahead of RUNs) with their resident memory
# summed. SETTLE waits at least that long and then until their number has not changed for 5 s (at most 120 s).
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

# slirps PID: "COUNT RSS-KiB" of the slirp4netns processes below PID
slirps() {
  local pids=("$1") i=0 child count=0 rss=0 kib
  while [ "$i" -lt "${#pids[@]}" ]; do
    for child in $(cat /proc/"${pids[$i]}"/task/*/children 2>/dev/null); do pids+=("$child"); done
    i=$((i + 1))
  done
  for child in "${pids[@]}"; do
    [ "$(cat "/proc/$child/comm" 2>/dev/null)" = slirp4netns ] || continue
    kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$child/status" 2>/dev/null || echo 0)
    count=$((count + 1)) rss=$((rss + ${kib:-0}))
  done
  echo "$count $rss"
}

printf '%-8s %9s %12s %14s %8s %9s %6s %12s\n' workers "start" "idle CPU" "(% of a core)" threads "RSS" load \
  "slirp4netns"
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
  last=$(slirps "$pid"); stable=0
  for _ in $(seq 120); do
    sleep 1; now=$(slirps "$pid")
    if [ "${now%% *}" = "${last%% *}" ]; then stable=$((stable + 1)); else stable=0; fi
    last=$now; [ "$stable" -lt 5 ] || break
  done
  load=$(bench_load)
  c0=$(bench_tree_cpu "$pid")
  sleep "$window"
  c1=$(bench_tree_cpu "$pid")
  threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
  rss=$(awk '/^VmRSS:/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$pid/status")
  read -r nslirp slirp_kib <<< "$(slirps "$pid")"
  printf '%-8s %8.2fs %11.2fs %13.1f%% %8s %9s %6s %3s, %4.0f MiB\n' "$workers" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
    "$(awk -v a="$c0" -v b="$c1" -v w="$window" 'BEGIN { print 100 * (b - a) / w }')" "$threads" "$rss" "$load" \
    "$nslirp" "$(awk -v k="$slirp_kib" 'BEGIN { print k / 1024 }')"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
echo "(idle CPU: the farm's process tree over ${window} s, ${settle} s or more after it serves; start: process start ->"
echo " serving; RSS: the farm JVM's; slirp4netns: how many run below it, their resident memory summed;"
echo " $(nproc) cores; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
