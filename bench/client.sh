#!/usr/bin/env bash
# The client path and the local farm, through the ./stagefarm launcher as a user runs it:
#   - a Dockerfile syntax error (reported before any farm is contacted);
#   - the first build, which starts the local background farm; then builds through it (no --coordinator);
#   - the 32-stage fan-out (bench/fanout32) cold and warm through the local farm and
#     one-shot (--one-shot: an embedded farm started in the client for one build), with the ratio one-shot/farm;
#   - a no-op rebuild (everything cached) repeated: wall seconds and the client's CPU seconds (user+sys; on a
#     busy machine CPU is the steadier number).
# Usage: bench/client.sh [REPEATS]   (default 5 repeats of the no-op rebuild and the syntax error)
. "$(dirname "$(readlink -f "$0")")/lib.sh"
repeats=${1:-5}

bench_workdir client # $work, STAGEFARM_HOME, and traps that stop the farm and the registry
bench_cli # builds the CLI (and its AppCDS archive) outside the measurements
./stagefarm --version > /dev/null
bench_base "$work" ./stagefarm
mkdir -p "$work/bad"
printf 'FROM scratch\nFRM busybox\n' > "$work/bad/Dockerfile"

declare -A wall cpu
measure() { # $1 = label, rest = command; records wall and CPU (user+sys of the command's process tree: bench_run)
  local label=$1 t0 t1; shift
  bench_check_cli
  t0=$EPOCHREALTIME
  bench_run "$work/last.out" "$work/last.err" "$@"
  t1=$EPOCHREALTIME
  [ "$bench_rc" -eq 0 ] || [[ $label = syntax-* ]] || { cat "$work/last.err" >&2; exit 1; }
  wall[$label]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  cpu[$label]=$bench_cpu
  printf '  %-26s %6.2fs wall %6.2fs cpu  load %s\n' "$label" "${wall[$label]}" "${cpu[$label]}" "$(bench_load)" >&2
}
build() { # $1 = context, rest = flags
  local ctx=$1; shift
  ./stagefarm build --progress quiet --insecure-registry "127.0.0.1:$port" --workers 4 --build-arg "BASE=$base" "$@" "$ctx"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "stagefarm client bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for i in $(seq "$repeats"); do measure "syntax-$i" ./stagefarm build "$work/bad"; done
grep -q 'Dockerfile:2: unknown instruction: FRM' "$work/last.err" || { cat "$work/last.err" >&2; exit 1; }

measure "farm start + first build" build bench/fanout --build-arg NONCE=start
for bench in fanout32; do
  measure "farm $bench cold" build "bench/$bench" --build-arg "NONCE=farm-$RANDOM$RANDOM"
  measure "farm $bench warm" build "bench/$bench" --build-arg "NONCE=farm-warm"
  measure "farm $bench warm" build "bench/$bench" --build-arg "NONCE=farm-warm"
done
for i in $(seq "$repeats"); do measure "noop-$i" build bench/fanout --build-arg NONCE=farm-warm; done
bench_stop_farm
for bench in fanout32; do
  measure "one-shot $bench cold" build "bench/$bench" --one-shot --build-arg "NONCE=one-$RANDOM$RANDOM"
  measure "one-shot $bench warm" build "bench/$bench" --one-shot --build-arg "NONCE=farm-warm"
done

echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'syntax error:      median %.2fs wall, %.2fs cpu (%s runs)\n' \
  "$(for i in $(seq "$repeats"); do echo "${wall[syntax-$i]}"; done | median)" \
  "$(for i in $(seq "$repeats"); do echo "${cpu[syntax-$i]}"; done | median)" "$repeats"
printf 'no-op rebuild:     median %.2fs wall, %.2fs cpu (bench/fanout, all cached, through the local farm)\n' \
  "$(for i in $(seq "$repeats"); do echo "${wall[noop-$i]}"; done | median)" \
  "$(for i in $(seq "$repeats"); do echo "${cpu[noop-$i]}"; done | median)"
printf 'farm start + first build: %.1fs\n' "${wall[farm start + first build]}"
printf '%-9s %-5s %10s %10s %14s\n' bench cache farm one-shot one-shot/farm
for bench in fanout32; do
  for cache in cold warm; do
    f=${wall[farm $bench $cache]}; o=${wall[one-shot $bench $cache]}
    printf '%-9s %-5s %9.1fs %9.1fs %13sx\n' "$bench" "$cache" "$f" "$o" "$(awk -v a="$o" -v b="$f" 'BEGIN { printf "%.2f", a / b }')"
  done
done
