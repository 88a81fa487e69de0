#!/usr/bin/env bash
# JFR of one-shot builds (`./stagefarm build --one-shot`, as bench/oneshot-phases.sh runs them): BENCH cold (a fresh
# STAGEFARM_HOME) then warm (the same home), each with a recording of its own (method samples every ms, from the
# JVM's start), dumped to /tmp/oneshot-profile-cold.jfr and -warm.jfr. Prints, per build, the wall and CPU, the hot
# methods and, under the steps of a one-shot (the workers' stages, a RUN, the snapshot, the export), where their
# samples go (bench/jfr-tree.py). The recording costs CPU of its own: compare a change's samples, not its wall.
# Usage: bench/oneshot-profile.sh [BENCH] [WORKERS]   (default bigfile 32)
. "$(dirname "$(readlink -f "$0")")/lib.sh"
bench=${1:-bigfile} workers=${2:-32}
bench_workdir oneshotprofile
bench_cli
bench_base "$work" ./stagefarm
mkdir -p "$work/out"
bench_oneshot_training "$work/warmup"
jfr=jfr; [ -x "${JAVA_HOME:-}/bin/jfr" ] && jfr=$JAVA_HOME/bin/jfr
build() { # $1 home, $2 context, $3 JFR file or empty
  local opts=${STAGEFARM_JAVA_OPTS:-}
  [ -z "$3" ] || opts="$opts -XX:StartFlightRecording=filename=$3,settings=profile,jdk.ExecutionSample#period=1ms"
  bench_run "$work/last.out" "$work/last.err" env STAGEFARM_HOME="$1" STAGEFARM_JAVA_OPTS="$opts" \
    ./stagefarm build --one-shot --progress plain --workers "$workers" --insecure-registry "127.0.0.1:$port" \
      --build-arg "BASE=$base" -o "type=oci,dest=$work/out/image.tar" "$2"
  [ "$bench_rc" -eq 0 ] || { echo "bench: the build of $2 failed:" >&2; tail -30 "$work/last.err" >&2; exit 1; }
}
build "$work/train" "$work/warmup" ""
bench_wait_client_cache # the AOT cache is made in the background after the training run
echo "bench/oneshot-profile.sh: $bench, $workers workers, load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in cold warm; do
  out=/tmp/oneshot-profile-$run.jfr
  start=$EPOCHREALTIME
  build "$work/home" "bench/$bench" "$out"
  printf '%s: wall %.2f s, cpu %s s; recording %s\n' "$run" "$(awk -v a="$start" -v b="$EPOCHREALTIME" \
    'BEGIN { print b - a }')" "$bench_cpu" "$out"
  "$jfr" view --width 160 hot-methods "$out" | head -30
  "$jfr" print --json --stack-depth 200 --events jdk.ExecutionSample "$out" > "$work/samples.json"
  for at in "StageExecutor.execute 2" "ExecAction.execute 1" "LayerSnapshotter 1" "BaseMaterialiser 1" \
      "Worker.start 1" "BuildServiceImpl.exportImage 3" "MessageDigest.update 3"; do
    python3 "$(dirname "$0")/jfr-tree.py" $at < "$work/samples.json" | head -12
  done
done
