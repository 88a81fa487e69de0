#!/usr/bin/env bash
# Warm no-op builds through the local farm, the JVM client against the thin client (the launcher's fast path),
# alternating on the same load: bench/fanout, bench/chain, bench/bigfile, each built cold once (which starts the
# farm), then ROUNDS rounds of "old" (STAGEFARM_NO_FAST=1: the launcher starts the CLI's JVM) and "thin" (the
# launcher hands the build to the farm through farmrun's thin client). Prints per build: wall seconds, CPU
# seconds of the client's process tree (user+sys of the launcher and everything it waited for) and the 1-minute
# load average at its start; then the java processes each path starts (execve counted with strace, once each).
# Usage: bench/fastpath.sh [ROUNDS]   (default 4)
. "$(dirname "$(readlink -f "$0")")/lib.sh"
rounds=${1:-4}

bench_workdir fastpath # $work, STAGEFARM_HOME, and traps that stop the farm and the registry
bench_cli # builds the CLI outside the measurements
bench_base "$work" ./stagefarm

flags=(build --progress quiet --insecure-registry "127.0.0.1:$port" --workers 4 --build-arg "BASE=$base")
measure() { # $1 = label, rest = command; CPU = user + sys of the command's process tree (bench_run)
  local label=$1 load t0 t1; shift
  bench_check_cli
  load=$(bench_load)
  t0=$EPOCHREALTIME
  bench_run "$work/last.out" "$work/last.err" "$@"
  t1=$EPOCHREALTIME
  [ "$bench_rc" -eq 0 ] || { cat "$work/last.err" >&2; exit 1; }
  printf '%-16s %6.2f s wall %6.2f s cpu  load %s\n' "$label" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$bench_cpu" "$load"
}

echo "fast path bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for bench in fanout chain bigfile; do
  # the first starts the local farm; then a warm build of each client writes its AppCDS archive
  measure "$bench cold" ./stagefarm "${flags[@]}" "bench/$bench"
  STAGEFARM_NO_FAST=1 ./stagefarm "${flags[@]}" "bench/$bench" > /dev/null 2>&1
  ./stagefarm "${flags[@]}" "bench/$bench" > /dev/null 2>&1
done
for round in $(seq "$rounds"); do
  for bench in fanout chain bigfile; do
    measure "$bench old" env STAGEFARM_NO_FAST=1 ./stagefarm "${flags[@]}" "bench/$bench"
    measure "$bench thin" env STAGEFARM_NO_FAST= ./stagefarm "${flags[@]}" "bench/$bench"
  done
done
if command -v strace > /dev/null; then
  for mode in old thin; do
    no_fast=; [ "$mode" = old ] && no_fast=1
    STAGEFARM_NO_FAST=$no_fast strace -f -qq -v -s 1024 -e trace=execve -e signal=none -o "$work/strace" \
      ./stagefarm "${flags[@]}" bench/fanout > /dev/null 2>&1
    printf '%-5s java processes started: %s (CLI JVMs: %s)\n' "$mode" \
      "$(grep -c 'execve("[^"]*/bin/java"' "$work/strace")" "$(grep 'execve("[^"]*/bin/java"' "$work/strace" | grep -c 'stagefarm.jar')"
  done
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
