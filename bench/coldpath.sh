#!/usr/bin/env bash
# Profile of cold builds through a running farm (issue 12, session 7): for each CLI copy given (a directory
# holding stagefarm.jar and lib/), a fresh `stagefarm up --workers N` farm per build, one cold build of each
# bench with `--trace` and `-o type=oci`, and around it the farm JVM's CPU (utime+stime) and its reaped
# children's (cutime+cstime: runc, slirp4netns, mount, …), read from /proc/PID/stat, plus the load average.
# With STRACE=1 the farm runs under `strace -f -e trace=execve,clone,clone3` and the processes it started are
# counted by program. Runs alternate between the CLI copies, ROUNDS times.
#
# Usage: bench/coldpath.sh OUT_DIR CLI_DIR… (env: WORKERS=4 ROUNDS=1 BENCHES="fanout bigfile" STRACE=0)
. "$(dirname "$(readlink -f "$0")")/lib.sh"
out=$1; shift
mkdir -p "$out"
workers=${WORKERS:-4}
rounds=${ROUNDS:-1}
read -r -a benches <<< "${BENCHES:-fanout bigfile}"
work=$(mktemp -d /tmp/stagefarm-coldpath.XXXXXX)
up_pid=
cleanup() {
  if [ -n "$up_pid" ]; then kill "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; fi
  if [ -n "${registry_pid:-}" ]; then kill "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
first=$1
bench_base "$work" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$first/stagefarm.jar"
ticks=$(getconf CLK_TCK)
cpu() { # utime stime cutime cstime of PID, seconds
  awk -v t="$ticks" '{ sub(/.*\) /, ""); printf "%.2f %.2f", ($12 + $13) / t, ($14 + $15) / t }' "/proc/$1/stat"
}
for round in $(seq "$rounds"); do
  for cli in "$@"; do
    name=$(basename "$cli")
    for bench in "${benches[@]}"; do
      port=$((30000 + RANDOM % 20000))
      while ! stagefarm_port_free "$port"; do port=$((port + 1)); done
      rm -rf "$work/up"
      prefix=()
      if [ "${STRACE:-0}" = 1 ]; then prefix=(strace -f -qq -ttt -e trace=execve,exit_group -e signal=none -o "$out/$name-$bench-$round.strace"); fi
      ("${prefix[@]}" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$cli/stagefarm.jar" up --port "$port" \
        --workers "$workers" --data "$work/up" --insecure-registry "127.0.0.1:$registry_port") > "$out/$name-$bench-$round.up.log" 2>&1 &
      up_pid=$!
      for _ in $(seq 900); do grep -q "stagefarm is up" "$out/$name-$bench-$round.up.log" && break; sleep 0.1; done
      jvm=$(pgrep -f -- "^$JAVA_HOME/bin/java.*--data $work/up")
      sleep 3
      c0=$(cpu "$jvm"); l0=$(cut -d' ' -f1 /proc/loadavg); t0=$(date +%s.%N)
      "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$cli/stagefarm.jar" \
        build --progress quiet --coordinator "127.0.0.1:$port" --insecure-registry "127.0.0.1:$registry_port" \
        --build-arg "BASE=$base" --trace "$out/$name-$bench-$round.trace.json" -o "type=oci,dest=$work/out.tar" \
        "bench/$bench" > /dev/null 2> "$out/$name-$bench-$round.err" || cat "$out/$name-$bench-$round.err" >&2
      t1=$(date +%s.%N); c1=$(cpu "$jvm"); l1=$(cut -d' ' -f1 /proc/loadavg)
      echo "$name $bench round=$round wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') cpu0=[$c0] cpu1=[$c1] load=$l0-$l1" | tee -a "$out/summary.txt"
      kill "$jvm"; wait "$up_pid" 2>/dev/null || true; up_pid=
      rm -f "$work/out.tar"
    done
  done
done
