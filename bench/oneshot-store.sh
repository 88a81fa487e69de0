#!/usr/bin/env bash
# bench/oneshot-store.sh OLD_TREE [ROUNDS] [BENCHES]: `./stagefarm build --one-shot` of this tree against the one of
# OLD_TREE (another checkout with its CLI, e.g. `git worktree add --detach /tmp/old main`), alternating old/new per
# round (the order flips every round), each bench cold (a fresh STAGEFARM_HOME) then warm (the same home again).
# Per build: wall, CPU (user + sys of the build's whole process tree), the farm's start-up from its INFO log
# ("embedded farm … started in … ms wall, … ms CPU" and its phases), and the bytes the tree wrote (/proc/PID/io of a
# wrapper shell, which accumulates its reaped children's: wchar = write() calls, write_bytes = sent to the storage
# layer, cancelled = dirtied then removed before write-back). Export as bench/run.sh's default (-o type=oci).
# Session 9 (the one-shot farm's directory store): bench/README.md.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
old_tree=$(readlink -f "${1:?usage: bench/oneshot-store.sh OLD_TREE [ROUNDS] [BENCHES]}")
rounds=${2:-2}
IFS=, read -r -a benches <<< "${3:-bigfile,fanout}"
workers=8
[ -x "$old_tree/stagefarm" ] || { echo "bench: no ./stagefarm in $old_tree" >&2; exit 1; }

bench_workdir oneshot-store
bench_cli
(cd "$old_tree" && ./stagefarm --version > /dev/null)
bench_base "$work" ./stagefarm
mkdir -p "$work/out" "$work/warmup"
printf 'FROM %s\nRUN true\n' "$base" > "$work/warmup/Dockerfile"

declare -A tree=([old]="$old_tree" [new]="$root")
# one build: $1 variant, $2 label, $3 home, $4 context; prints one line
one() {
  local variant=$1 label=$2 home=$3 ctx=$4 start load io startup
  load=$(bench_load)
  start=$EPOCHREALTIME
  bench_run "$work/last.out" "$work/last.err" env STAGEFARM_HOME="$home" STAGEFARM_LOG_LEVEL=INFO \
    bash -c 'cd "$1" && shift && "$@"; rc=$?; cat /proc/$$/io > "'"$work"'/last.io"; exit $rc' _ "${tree[$variant]}" \
    ./stagefarm build --one-shot --progress plain --workers "$workers" --insecure-registry "127.0.0.1:$port" \
      --build-arg "BASE=$base" -o "type=oci,dest=$work/out/image.tar" "$ctx"
  [ "$bench_rc" -eq 0 ] || { echo "bench: $variant $label failed:" >&2; tail -30 "$work/last.err" "$work/last.out" >&2; exit 1; }
  io=$(awk '/^wchar|^write_bytes|^cancelled_write_bytes/ { printf "%s %.0f MiB  ", $1, $2 / 1048576 }' "$work/last.io")
  startup=$(grep -ho 'embedded farm (no broker) started in [^)]*)' "$work/last.err" "$work/last.out" | head -1 \
    | sed 's/embedded farm (no broker) started in //')
  printf '%-4s %-14s wall %6.2f s  cpu %6.2f s  load %5s  %s\n     start-up: %s\n' "$variant" "$label" \
    "$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" "$bench_cpu" "$load" "$io" "$startup"
}

echo "bench/oneshot-store.sh: $(nproc) cores, $workers workers, $rounds round(s), benches ${benches[*]}; old = $old_tree," \
  "new = $root; load at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
# each variant's AppCDS archive written first (the launcher's, at a run's exit), in a home of its own
for variant in old new; do one "$variant" training "$work/train-$variant" "$work/warmup" > /dev/null; done
for r in $(seq "$rounds"); do
  order=(old new); [ $((r % 2)) -eq 0 ] && order=(new old)
  for bench in "${benches[@]}"; do
    for variant in "${order[@]}"; do
      home="$work/home-$variant-$bench-$r"
      one "$variant" "$bench cold" "$home" "$root/bench/$bench"
      one "$variant" "$bench warm" "$home" "$root/bench/$bench"
      rm -rf "$home"
    done
  done
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
