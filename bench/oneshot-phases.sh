#!/usr/bin/env bash
# bench/oneshot-phases.sh [BENCHES] [WORKERS] [ROUNDS]: where a `./stagefarm build --one-shot` spends its time, per
# bench cold (a fresh STAGEFARM_HOME) then warm (the same home again), as bench/run.sh runs it (--workers WORKERS,
# default 32; -o type=oci), with the farm's INFO log (STAGEFARM_LOG_LEVEL=INFO) and --progress plain. Per build:
# wall, CPU (user + sys of the whole process tree), and a timeline relative to the launch, from the log's
# timestamps: the JVM's first log line (the CLI running), the farm started (with its phases' wall/CPU ms), the first
# and last worker started, the build's end, the farm stopped (with its phases) and the process's exit.
# One unmeasured training build first (the launcher's AOT cache or AppCDS archive). Session 10: bench/README.md.
# LAUNCHER=PATH runs another launcher script of this tree (an A/B of launcher flags); KEEP=DIR keeps each build's
# standard error there (LABEL.err); LOG_LEVEL=DEBUG logs more than INFO (the timeline needs INFO or finer).
. "$(dirname "$(readlink -f "$0")")/lib.sh"
IFS=, read -r -a benches <<< "${1:-fanout,chain,bigfile,fanout32}"
workers=${2:-32}
rounds=${3:-1}

bench_workdir oneshot-phases
bench_cli
bench_base "$work" ./stagefarm
mkdir -p "$work/out"
bench_oneshot_training "$work/warmup"

# one build: $1 label, $2 home, $3 context; prints its lines
one() {
  local label=$1 home=$2 ctx=$3 start end load
  load=$(bench_load)
  start=$EPOCHREALTIME
  bench_run "$work/last.out" "$work/last.err" env STAGEFARM_HOME="$home" STAGEFARM_LOG_LEVEL="${LOG_LEVEL:-INFO}" \
    "${LAUNCHER:-./stagefarm}" build --one-shot --progress plain --workers "$workers" --insecure-registry "127.0.0.1:$port" \
      --build-arg "BASE=$base" -o "type=oci,dest=$work/out/image.tar" "$ctx"
  end=$EPOCHREALTIME
  [ "$bench_rc" -eq 0 ] || { echo "bench: $label failed:" >&2; tail -30 "$work/last.err" >&2; exit 1; }
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$work/last.err" "$KEEP/${label// /-}.err"; fi
  printf '%-16s wall %6.2f s  cpu %6.2f s  load %s\n' "$label" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" \
    "$bench_cpu" "$load"
  # the log's HH:MM:SS.mmm as seconds after the launch (same day)
  awk -v t0="$start" -v t1="$end" -v hms0="$(date -d "@$start" +%H:%M:%S.%N)" '
    function at(hms,  p) { split(hms, p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
    BEGIN { base = at(hms0) }
    /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]/ {
      t = at($1) - base
      if (!first) { printf "  %6.2f s  first log line (the CLI running)\n", t; first = 1 }
      if ($0 ~ /embedded farm .*started in/) { sub(/.* - /, ""); printf "  %6.2f s  %s\n", t, $0 }
      if ($0 ~ /worker worker-[0-9]+ started/) { if (!w1) { w1 = t }; wn = t; nw++ }
      if ($0 ~ /embedded farm stopped in/) { sub(/.* - /, ""); printf "  %6.2f s  %s\n", t, $0 }
    }
    END { if (nw) printf "  %6.2f s  first of %d workers started (last %.2f s)\n", w1, nw, wn
          else printf "           no worker started\n"
          printf "  %6.2f s  exit\n", t1 - t0 }' "$work/last.err"
  grep -h ' in [0-9.]*s$\|^#[0-9]* DONE\|CACHED' "$work/last.out" "$work/last.err" | tail -1 | sed 's/^/  /'
}

echo "bench/oneshot-phases.sh: $(nproc) cores, $workers workers, benches ${benches[*]}; load at the start:" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
one training "$work/train" "$work/warmup" > /dev/null
bench_wait_client_cache # the AOT cache is made in the background after the training run
if [ -n "${LAUNCHER:-}" ]; then bench_wait_client_cache "$(dirname "$(readlink -f "$LAUNCHER")")"; fi # that tree's
for r in $(seq "$rounds"); do
  for bench in "${benches[@]}"; do
    home="$work/home-$bench-$r"
    one "$bench cold" "$home" "bench/$bench"
    one "$bench warm" "$home" "bench/$bench"
    rm -rf "$home"
  done
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
