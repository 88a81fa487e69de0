#!/usr/bin/env bash
# The bigfile's bytes and CPU on the farm side, old against new, alternating on the same load (issue 12, session 8).
# Usage: bench/bigfile-io.sh OUT CLI_ROOT... (each CLI_ROOT a source tree with cli/target/stagefarm.jar built)
# For each round and each CLI: a fresh `stagefarm up --workers $WORKERS` (default 8), a warm-up build of another
# context from the same base (the base layer extracted, as in bench/fastcompare.sh, where bigfile runs after fanout
# and chain), then one cold bench/bigfile build (build only; EXPORT=1 adds `-o type=oci`), and around it the farm
# JVM's utime+stime, its reaped children's, and /proc/PID/io (rchar/wchar: bytes through read/write calls, sockets
# and the page cache included; read_bytes/write_bytes: bytes the disk was asked for). The farm logs at DEBUG, so
# OUT/NAME-ROUND.up.log has the worker's per-op timings (snapshot, and stage accepted = upload finished).
. "$(dirname "$(readlink -f "$0")")/lib.sh"
out=$1; shift
mkdir -p "$out"
workers=${WORKERS:-8}
rounds=${ROUNDS:-2}
work=$(mktemp -d /tmp/stagefarm-bigfile-io.XXXXXX)
up_pid=
cleanup() {
  if [ -n "$up_pid" ]; then kill "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; fi
  if [ -n "${registry_pid:-}" ]; then kill "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
bench_base "$work" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$1/cli/target/stagefarm.jar"
mkdir -p "$work/warmup" && printf 'ARG BASE\nFROM ${BASE}\nRUN true\n' > "$work/warmup/Dockerfile"
ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{ sub(/.*\) /, ""); printf "%.2f %.2f", ($12 + $13) / t, ($14 + $15) / t }' "/proc/$1/stat"; }
io() { awk '/^(rchar|wchar|read_bytes|write_bytes):/ { printf "%d ", $2 / 1048576 }' "/proc/$1/io"; }
export=()
if [ "${EXPORT:-0}" = 1 ]; then export=(-o "type=oci,dest=$work/out.tar"); fi
for round in $(seq "$rounds"); do
  for cli in "$@"; do
    name=$(basename "$cli")
    jar="$cli/cli/target/stagefarm.jar"
    build() { "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$jar" \
      build --progress quiet --coordinator "127.0.0.1:$port" --insecure-registry "127.0.0.1:$registry_port" \
      --build-arg "BASE=$base" "$@"; }
    port=$((30000 + RANDOM % 20000))
    while ! stagefarm_port_free "$port"; do port=$((port + 1)); done
    rm -rf "$work/up"
    STAGEFARM_LOG_LEVEL=DEBUG "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$jar" up --port "$port" \
      --workers "$workers" --data "$work/up" --insecure-registry "127.0.0.1:$registry_port" > "$out/$name-$round.up.log" 2>&1 &
    up_pid=$!
    for _ in $(seq 1800); do grep -q "stagefarm is up" "$out/$name-$round.up.log" && break; sleep 0.1; done
    jvm=$(pgrep -f -- "^$JAVA_HOME/bin/java.*--data $work/up")
    build "$work/warmup" > /dev/null 2>&1
    sleep 2
    c0=$(cpu "$jvm"); i0=$(io "$jvm"); l0=$(cut -d' ' -f1 /proc/loadavg); t0=$(date +%s.%N)
    build "${export[@]}" bench/bigfile > /dev/null 2> "$out/$name-$round.err" || cat "$out/$name-$round.err" >&2
    t1=$(date +%s.%N); c1=$(cpu "$jvm"); i1=$(io "$jvm"); l1=$(cut -d' ' -f1 /proc/loadavg)
    echo "$name round=$round wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') cpu/children=[$c0]->[$c1]" \
      "io MiB rchar,wchar,read_bytes,write_bytes=[$i0]->[$i1] load=$l0-$l1" | tee -a "$out/summary.txt"
    kill "$jvm"; wait "$up_pid" 2>/dev/null || true; up_pid=
    rm -f "$work/out.tar"
  done
done
