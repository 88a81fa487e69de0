#!/usr/bin/env bash
# Warm bench/fanout through the local farm (./stagefarm build, the launcher's fast path) by worker count: a cold build
# first, then five warm ones timed (load average at each start in brackets); the farm stopped after each count.
# Usage: bench/warm-by-workers.sh WORKER COUNTS…   (session 9: is a warm build slower with more, idle, workers?)
. "$(dirname "$(readlink -f "$0")")/lib.sh"
bench_workdir warmw
bench_cli
bench_base "$work" ./stagefarm
for w in "$@"; do
  export STAGEFARM_HOME=$work/home-$w; bench_farm_home "$STAGEFARM_HOME"
  flags=(build --progress quiet --workers "$w" --insecure-registry "127.0.0.1:$port" --build-arg "BASE=$base" -o "type=oci,dest=$work/out.tar")
  ./stagefarm "${flags[@]}" bench/fanout > /dev/null 2>&1
  line="workers $w warm fanout:"
  for i in 1 2 3 4 5; do
    t0=$EPOCHREALTIME; ./stagefarm "${flags[@]}" bench/fanout > /dev/null 2>&1; t1=$EPOCHREALTIME
    line="$line $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')[$(cut -d' ' -f1 /proc/loadavg)]"
  done
  echo "$line"
  bench_stop_farm "$STAGEFARM_HOME"
done
