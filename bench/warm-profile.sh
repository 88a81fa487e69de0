#!/usr/bin/env bash
# JFR of the running local farm over warm no-op builds: this tree's launcher and farm (32 workers, as
# bench/run.sh runs them), the bench built cold once and warm twice, then ROUNDS warm builds with the farm's
# JFR recording (method samples every ms), dumped to /tmp/warm-profile.jfr.
# Prints the hot methods of the farm's threads and, under the steps of a warm build (SubmitBuild, planning, the
# run's command, the export), where their samples go (bench/jfr-tree.py).
# Usage: bench/warm-profile.sh [ROUNDS] [BENCH]   (default 60 fanout)
. "$(dirname "$(readlink -f "$0")")/lib.sh"
rounds=${1:-60} bench=${2:-fanout}
bench_workdir warmprofile
bench_cli
bench_base "$work" ./stagefarm
mkdir -p "$work/warmup" "$work/out"
printf 'ARG BASE\nFROM ${BASE}\nRUN true\n' > "$work/warmup/Dockerfile"
flags=(build --progress quiet --workers 32 --insecure-registry "127.0.0.1:$port" --build-arg "BASE=$base"
  -o "type=oci,dest=$work/out/image.tar")
./stagefarm "${flags[@]}" "$work/warmup" > /dev/null
./stagefarm "${flags[@]}" "$work/warmup" > /dev/null
for _ in 1 2 3; do ./stagefarm "${flags[@]}" "bench/$bench" > /dev/null; done
bench_wait_client_cache .
jcmd=jcmd jfr=jfr; [ -x "${JAVA_HOME:-}/bin/jcmd" ] && jcmd=$JAVA_HOME/bin/jcmd jfr=$JAVA_HOME/bin/jfr
pid=$(sed -n 's/^pid=//p' "$STAGEFARM_HOME/farm/farm.properties")
"$jcmd" "$pid" JFR.start name=warm settings=profile 'jdk.ExecutionSample#period=1ms' > /dev/null
for _ in $(seq "$rounds"); do ./stagefarm "${flags[@]}" "bench/$bench" > /dev/null; done
out=/tmp/warm-profile.jfr
"$jcmd" "$pid" JFR.dump name=warm filename="$out" > /dev/null
"$jcmd" "$pid" JFR.stop name=warm > /dev/null
echo "bench/warm-profile.sh: $rounds warm $bench builds, load $(cut -d' ' -f1-3 /proc/loadavg); recording $out"
"$jfr" view --width 160 hot-methods "$out" | head -40
"$jfr" print --json --stack-depth 200 --events jdk.ExecutionSample "$out" > "$work/samples.json"
for at in "BuildServiceImpl.submitBuild 1" "Planning.plan 1" "Planning.withCachedResults 2" "Main.execute 2" \
    "BuildCommand.build 1" "BuildServiceImpl.exportImage 2"; do
  python3 "$(dirname "$0")/jfr-tree.py" $at < "$work/samples.json"
done
