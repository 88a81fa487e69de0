#!/usr/bin/env bash
# One-shot builds (`TREE/stagefarm build --one-shot`, as bench/oneshot-phases.sh runs them: --workers 32, an OCI tar
# export), two source trees against each other on the same load: ROUNDS rounds in which every bench is built cold (a
# fresh STAGEFARM_HOME) then warm (the same home again) by both trees, the order alternating per round (A B, B A, …).
# Prints each build (wall seconds, CPU seconds — user + sys of the process tree, steadier than wall on a loaded
# machine —, the 1-minute load at its start), then per bench, temperature and tree the medians of both.
# Usage: bench/oneshot-ab.sh TREE_A TREE_B [ROUNDS] [BENCH…]   (default 3 rounds; fanout chain bigfile fanout32)
# Each tree's launcher trains its own AOT cache first (bench_oneshot_training); the registry and base image come from
# this tree. STAGEFARM_JAVA_OPTS_A / _B: JVM options of one side only (e.g. -Dstagefarm.sha256=jdk).
. "$(dirname "$(readlink -f "$0")")/lib.sh"
[ $# -ge 2 ] || { echo "usage: bench/oneshot-ab.sh TREE_A TREE_B [ROUNDS] [BENCH…]" >&2; exit 2; }
tree_a=$(cd "$1" && pwd) tree_b=$(cd "$2" && pwd) rounds=${3:-3}
shift $(( $# >= 3 ? 3 : 2 ))
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(fanout chain bigfile fanout32)
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench/oneshot-ab.sh: ROUNDS must be a positive number, not $rounds" >&2; exit 2; }

bench_workdir oneshotab
bench_cli
for tree in "$tree_a" "$tree_b"; do (cd "$tree" && ./stagefarm --version > /dev/null); done
bench_base "$work" ./stagefarm
mkdir -p "$work/out"
bench_oneshot_training "$work/warmup"

declare -A walls cpus
build() { # $1 = a|b, $2 = home, $3 = context; prints the wall and CPU seconds
  local tree opts t0 t1
  if [ "$1" = a ]; then tree=$tree_a opts=${STAGEFARM_JAVA_OPTS_A:-}; else tree=$tree_b opts=${STAGEFARM_JAVA_OPTS_B:-}; fi
  rm -f "$work/out/image.tar"
  t0=$EPOCHREALTIME
  bench_run "$work/last.out" "$work/last.err" env STAGEFARM_HOME="$2" STAGEFARM_JAVA_OPTS="$opts" "$tree/stagefarm" \
    build --one-shot --progress plain --workers 32 --insecure-registry "127.0.0.1:$port" --build-arg "BASE=$base" \
    -o "type=oci,dest=$work/out/image.tar" "$3"
  t1=$EPOCHREALTIME
  [ "$bench_rc" -eq 0 ] && [ -s "$work/out/image.tar" ] || { echo "bench/oneshot-ab.sh: $1 $3 failed:" >&2; tail -30 "$work/last.err" >&2; exit 1; }
  awk -v a="$t0" -v b="$t1" -v c="$bench_cpu" 'BEGIN { printf "%.3f %.2f", b - a, c }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "bench/oneshot-ab.sh: A = $tree_a ($(git -C "$tree_a" rev-parse --short HEAD 2>/dev/null || echo ?))," \
  "B = $tree_b ($(git -C "$tree_b" rev-parse --short HEAD 2>/dev/null || echo ?)); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
for side in a b; do build "$side" "$work/train-$side" "$work/warmup" > /dev/null; done
bench_wait_client_cache "$tree_a"; bench_wait_client_cache "$tree_b"
for round in $(seq "$rounds"); do
  order=(a b); [ $((round % 2)) -eq 0 ] && order=(b a)
  for bench in "${benches[@]}"; do
    for side in "${order[@]}"; do
      home="$work/home-$side"
      rm -rf "$home"
      for temp in cold warm; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        read -r wall cpu <<< "$(build "$side" "$home" "bench/$bench")"
        walls[$bench $temp $side]+="$wall "; cpus[$bench $temp $side]+="$cpu "
        printf 'round %d  %-9s %s %s  wall %6.2f s  cpu %5.2f s  load %s\n' "$round" "$bench" "$temp" "$side" "$wall" "$cpu" "$load"
      done
      rm -rf "$home"
    done
  done
done
echo "medians (wall / cpu, s):"
for bench in "${benches[@]}"; do
  for temp in cold warm; do
    line="  $(printf '%-9s %s' "$bench" "$temp")"
    for side in a b; do
      line+="  $side $(tr ' ' '\n' <<< "${walls[$bench $temp $side]}" | grep . | median) / $(tr ' ' '\n' <<< "${cpus[$bench $temp $side]}" | grep . | median)"
    done
    echo "$line"
  done
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
