#!/usr/bin/env bash
# Warm no-op builds through the running local farm, two source trees against each other on the same load: each
# tree's launcher (`TREE/stagefarm build`, the fast path, as bench/run.sh runs it: --progress quiet, an OCI tar
# export) with a local farm of its own (its own STAGEFARM_HOME, 32 workers), the benches built cold once per tree,
# then ROUNDS rounds in which every bench is built warm by both trees, the order alternating per round (A B, B A, …).
# Prints each build (wall seconds, the client's CPU seconds — user + sys of the launcher's process tree, steadier
# than wall on a loaded machine —, the farm's CPU seconds over the build — its JVM's process tree — and the 1-minute
# load average at its start), then per bench and tree the medians
# and the spread. Both farms stay up all the time (an idle farm costs ~0.01 core, bench/README "localbus").
# Usage: bench/warm-ab.sh TREE_A TREE_B [ROUNDS] [BENCH…]   (default 9 rounds; fanout chain bigfile fanout32)
#   e.g. a worktree of main against this one: bench/warm-ab.sh /work/main . 9 fanout
# The trees' CLIs are built first (each launcher builds its own when stale); the registry and base image come from
# this tree. STAGEFARM_TIMELINE is passed through (a temporary instrumentation's marks, none on main).
. "$(dirname "$(readlink -f "$0")")/lib.sh"
[ $# -ge 2 ] || { echo "usage: bench/warm-ab.sh TREE_A TREE_B [ROUNDS] [BENCH…]" >&2; exit 2; }
tree_a=$(cd "$1" && pwd) tree_b=$(cd "$2" && pwd) rounds=${3:-9}
shift $(( $# >= 3 ? 3 : 2 ))
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(fanout chain bigfile fanout32)
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench/warm-ab.sh: ROUNDS must be a positive number, not $rounds" >&2; exit 2; }

bench_workdir warmab # $work, and traps that stop the farms and the registry
bench_cli
for tree in "$tree_a" "$tree_b"; do (cd "$tree" && ./stagefarm --version > /dev/null); done
bench_base "$work" ./stagefarm
mkdir -p "$work/warmup" "$work/out"
printf 'ARG BASE\nFROM ${BASE}\nRUN true\n' > "$work/warmup/Dockerfile"
home_a=$work/home-a home_b=$work/home-b
bench_farm_home "$home_a"; bench_farm_home "$home_b"

flags=(build --progress quiet --workers 32 --insecure-registry "127.0.0.1:$port" --build-arg "BASE=$base"
  -o "type=oci,dest=$work/out/image.tar")
declare -A walls cpus farms
build() { # $1 = a|b, $2 = context; prints the wall seconds, the client's CPU seconds (its process tree) and the
  # farm's (its JVM's process tree, before and after: the build's share plus what the idle farm spends meanwhile)
  local tree home t0 t1 pid f0=0 f1=0
  if [ "$1" = a ]; then tree=$tree_a home=$home_a; else tree=$tree_b home=$home_b; fi
  rm -f "$work/out/image.tar"
  pid=$(sed -n 's/^pid=//p' "$home/farm/farm.properties" 2>/dev/null || true)
  [ -z "$pid" ] || f0=$(bench_tree_cpu "$pid")
  t0=$EPOCHREALTIME
  STAGEFARM_HOME=$home bench_run "$work/last.out" "$work/last.err" "$tree/stagefarm" "${flags[@]}" "$2"
  t1=$EPOCHREALTIME
  [ -z "$pid" ] || f1=$(bench_tree_cpu "$pid")
  [ "$bench_rc" -eq 0 ] && [ -s "$work/out/image.tar" ] || { echo "bench/warm-ab.sh: $1 $2 failed:" >&2; cat "$work/last.err" >&2; exit 1; }
  awk -v a="$t0" -v b="$t1" -v c="$bench_cpu" -v f="$f0" -v g="$f1" 'BEGIN { printf "%.3f %.2f %.2f", b - a, c, g - f }'
}
median_spread() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "median %.3f s (min %.3f, max %.3f, n %d)", m, v[1], v[NR], NR }'; }

echo "bench/warm-ab.sh: A = $tree_a ($(git -C "$tree_a" rev-parse --short HEAD 2>/dev/null || echo ?))," \
  "B = $tree_b ($(git -C "$tree_b" rev-parse --short HEAD 2>/dev/null || echo ?)); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
for side in a b; do
  # the farm started by a JVM client's build (it writes the client's AppCDS archive), then the thin client's
  build "$side" "$work/warmup" > /dev/null; build "$side" "$work/warmup" > /dev/null
  for bench in "${benches[@]}"; do echo "$side $bench cold $(build "$side" "bench/$bench" | cut -d' ' -f1) s"; build "$side" "bench/$bench" > /dev/null; done
done
bench_wait_client_cache "$tree_a"; bench_wait_client_cache "$tree_b"
for round in $(seq "$rounds"); do
  order=(a b); [ $((round % 2)) -eq 0 ] && order=(b a)
  for bench in "${benches[@]}"; do
    for side in "${order[@]}"; do
      load=$(bench_load)
      read -r w c f <<< "$(build "$side" "bench/$bench")"
      walls[$side $bench]+="$w "; cpus[$side $bench]+="$c "; farms[$side $bench]+="$f "
      echo "round $round $side $bench $w s wall, client cpu $c s, farm cpu $f s (load $load)"
    done
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
for bench in "${benches[@]}"; do
  for side in a b; do
    echo "$side $bench warm: wall $(tr ' ' '\n' <<< "${walls[$side $bench]}" | grep . | median_spread);" \
      "client cpu $(tr ' ' '\n' <<< "${cpus[$side $bench]}" | grep . | median_spread);" \
      "farm cpu $(tr ' ' '\n' <<< "${farms[$side $bench]}" | grep . | median_spread)"
  done
done
