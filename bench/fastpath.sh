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

work=$(mktemp -d /tmp/stagefarm-fastpath.XXXXXX)
registry_pid=
export STAGEFARM_HOME="$work/home"
cleanup() {
  ./stagefarm farm stop > /dev/null 2>&1 || true
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

./stagefarm --version > /dev/null # builds the CLI outside the measurements
bench_base "$work" ./stagefarm

flags=(build --progress quiet --insecure-registry "127.0.0.1:$port" --workers 4 --build-arg "BASE=$base")
measure() { # $1 = label, rest = command
  local label=$1 load; shift
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" > "$work/last.out" 2> "$work/last.err" || {
    cat "$work/last.err" >&2; exit 1; }
  read -r w u s < <(tail -1 "$work/time")
  printf '%-16s %6.2f s wall %6.2f s cpu  load %s\n' "$label" "$w" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" "$load"
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
