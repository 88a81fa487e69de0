#!/usr/bin/env bash
# Scaling curve: a fan-out of STAGES × `RUN sleep 2` (default 8, bench/fanout's shape), gathered by one
# `COPY --from` stage into scratch, built cold through a running farm (`stagefarm up --workers N`, single-slot
# workers) with 1, 2, 4, 8, 16 workers, against its critical path.
#
# The critical path, measured, not assumed: the same farm building ONE branch of the fan-out and its gather
# (one RUN stage, then the COPY stage), cold. That is the longest chain of dependent work in the fan-out plus
# everything a build costs on that farm (client start, planning, base resolution, hand-offs, the gather); with
# workers >= stages the fan-out can at best match it. Issue 12's bar: fan-out <= 1.3 × critical path once
# workers >= stages.
#
# Trustworthy by construction:
# - every measured build is cold: a fresh NONCE build-arg is in each RUN, and the farm's log must show every
#   stage taken by a worker (STAGES + 1 for the fan-out, 2 for the critical path); a build with a cache hit
#   stops the bench;
# - the base image is pulled and the farm's JVM warmed by a build before any measurement, on each farm;
# - ROUNDS rounds per worker count, fan-out and critical path alternating (order flipped each round), medians
#   reported next to every single value;
# - two times per build: wall (the JVM client's start included, in both the fan-out and its critical path) and
#   the farm's span (first stage taken -> last stage acknowledged, from the farm's DEBUG log: no client, no
#   planning), with the farm's CPU (utime+stime of the farm JVM and its reaped children, /proc) and the load.
#
# Usage: [STAGES=8] [ROUNDS=2] [CLI_DIR=DIR] [LOGS=DIR] [FARM=up|local] bench/scaling.sh [WORKER COUNTS…]
#                                                                                         (default: 1 2 4 8 16)
#   CLI_DIR: a built CLI (stagefarm.jar and lib/) to measure instead of this tree's (old/new comparisons)
#   LOGS: keep each farm's DEBUG log there (up-WORKERS.log: the worker's per-op timings)
#   FARM: up (default): `stagefarm up`, the explicit farm (Kafka broker, workers of other hosts may join);
#         local: the local background farm (`stagefarm build` without --coordinator, --workers N: no broker,
#         its coordinator and workers on the in-process bus), started by the warm-up build of each count
. "$(dirname "$(readlink -f "$0")")/lib.sh"
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 2 4 8 16)
stages=${STAGES:-8}
rounds=${ROUNDS:-2}
farm=${FARM:-up}
case $farm in up|local) ;; *) echo "scaling: FARM=up or FARM=local, not $farm" >&2; exit 2 ;; esac

work=$(mktemp -d /tmp/stagefarm-scaling.XXXXXX)
registry_pid=
up_pid=
cleanup() {
  if [ -n "$up_pid" ]; then kill "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; fi
  if [ -n "${local_home:-}" ]; then STAGEFARM_HOME=$local_home sf farm stop > /dev/null 2>&1 || true; fi
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/cli"
if [ -n "${CLI_DIR:-}" ]; then
  cp -r "$CLI_DIR/stagefarm.jar" "$CLI_DIR/lib" "$work/cli/"
else
  ./stagefarm --version > /dev/null # builds the CLI when needed, outside the measurement
  cp -r cli/target/stagefarm.jar cli/target/lib "$work/cli/" # edits to the sources during the run change nothing
fi
sf() { "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$work/cli/stagefarm.jar" "$@"; }

bench_base "$work" sf

# the fan-out and its critical path (one branch and the gather), both with a NONCE in every RUN
mkdir -p "$work/fan" "$work/one"
{
  echo "ARG BASE"
  for i in $(seq "$stages"); do printf '\nFROM ${BASE} AS s%d\nARG NONCE\nRUN sleep 2 && echo "$NONCE %d" > /out-%d\n' "$i" "$i" "$i"; done
  printf '\nFROM scratch\n'
  for i in $(seq "$stages"); do printf 'COPY --from=s%d /out-%d /\n' "$i" "$i"; done
} > "$work/fan/Dockerfile"
printf 'ARG BASE\n\nFROM ${BASE} AS s1\nARG NONCE\nRUN sleep 2 && echo "$NONCE 1" > /out-1\n\nFROM scratch\nCOPY --from=s1 /out-1 /\n' \
  > "$work/one/Dockerfile"

now() { date +%s.%N; }
ticks=$(getconf CLK_TCK)
farm_cpu() { # utime+stime of the farm JVM and its waited-for children (runc, mount, …), seconds
  local s; s=$(cat "/proc/$up_pid/stat"); s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  awk -v a="${12}" -v b="${13}" -v c="${14}" -v d="${15}" -v t="$ticks" 'BEGIN { printf "%.2f", (a + b + c + d) / t }'
}
ms_of() { # HH:MM:SS.mmm -> milliseconds of the day
  awk -F'[:.]' '{ printf "%d\n", (($1 * 60 + $2) * 60 + $3) * 1000 + $4 }' <<< "$1"
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# build KIND PORT CONTEXT EXPECTED_STAGES: one cold build; appends "wall span cpu load" to $work/KIND-WORKERS
build() {
  local kind=$1 port=$2 context=$3 expected=$4 nonce="$1-$RANDOM$RANDOM" lines t0 t1 c0 c1 load took first last
  lines=$(wc -l 2>/dev/null < "$farm_log" || echo 0)
  load=$(cut -d' ' -f1 /proc/loadavg)
  [ -z "$up_pid" ] || c0=$(farm_cpu)
  t0=$(now)
  if [ "$farm" = up ]; then
    sf build --progress quiet --coordinator "127.0.0.1:$port" --build-arg "BASE=$base" --build-arg "NONCE=$nonce" \
      "$context" > "$work/last.out" 2> "$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
  else
    STAGEFARM_HOME=$local_home STAGEFARM_LOG_LEVEL=DEBUG sf build --progress quiet --workers "$workers" \
      --insecure-registry "127.0.0.1:$registry_port" --build-arg "BASE=$base" --build-arg "NONCE=$nonce" \
      "$context" > "$work/last.out" 2> "$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
  fi
  t1=$(now)
  if [ -z "$up_pid" ]; then # the warm-up build started the local farm: from now on its CPU counts
    up_pid=$(sed -n 's/^pid=//p' "$local_home/farm/farm.properties"); c0=$(farm_cpu); t0=$t1
  fi
  c1=$(farm_cpu)
  sleep 0.5 # the last acknowledgement is logged just after the client's result
  tail -n +"$((lines + 1))" "$farm_log" > "$work/build.log"
  took=$(grep -c ' took build ' "$work/build.log" || true)
  if [ "$took" -ne "$expected" ]; then
    echo "scaling: the $kind build ran $took stage(s) on workers, not $expected: not a cold build; stopping" >&2
    exit 1
  fi
  first=$(grep ' took build ' "$work/build.log" | head -1 | cut -d' ' -f1)
  last=$(grep ' acknowledged ' "$work/build.log" | tail -1 | cut -d' ' -f1)
  printf '%s %s %s %s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" \
    "$(awk -v a="$(ms_of "$first")" -v b="$(ms_of "$last")" 'BEGIN { printf "%.2f", (b - a) / 1000 }')" \
    "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')" "$load" >> "$work/$kind-$workers"
}

up_port=$((port + 1))
registry_port=$port
for workers in "${counts[@]}"; do
  if [ "$farm" = up ]; then
    while ! stagefarm_port_free "$up_port"; do up_port=$((up_port + 1)); done
    farm_log=$work/up.log
    (STAGEFARM_LOG_LEVEL=DEBUG exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$work/cli/stagefarm.jar" \
      up --port "$up_port" --workers "$workers" --data "$work/up-$workers" --insecure-registry "127.0.0.1:$port") \
      > "$work/up.log" 2>&1 &
    up_pid=$!
    for _ in $(seq 1200); do grep -q "stagefarm is up" "$work/up.log" && break; sleep 0.1; done
    grep -q "stagefarm is up" "$work/up.log" || { cat "$work/up.log" >&2; exit 1; }
  else
    local_home=$work/up-$workers farm_log=$work/up-$workers/farm/daemon.log up_pid=
  fi
  build warmup "$up_port" "$work/one" 2 # pulls the base into the farm's store, warms the JVM: not measured
  for round in $(seq "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then
      build crit "$up_port" "$work/one" 2; build fan "$up_port" "$work/fan" $((stages + 1))
    else
      build fan "$up_port" "$work/fan" $((stages + 1)); build crit "$up_port" "$work/one" 2
    fi
  done
  printf '  %2d workers: fan-out %s | critical path %s   (wall span cpu load, per round)\n' "$workers" \
    "$(paste -sd'|' "$work/fan-$workers")" "$(paste -sd'|' "$work/crit-$workers")" >&2
  if [ "$farm" = up ]; then
    kill "$up_pid"; wait "$up_pid" 2>/dev/null || true
  else
    STAGEFARM_HOME=$local_home sf farm stop > /dev/null; local_home=
  fi
  up_pid=
  if [ -n "${LOGS:-}" ]; then mkdir -p "$LOGS" && cp "$farm_log" "$LOGS/$farm-$workers.log"; fi
  rm -rf "$work/up-$workers"
done

col() { cut -d' ' -f"$1" "$2" | tr '\n' ' '; }
echo
echo "$stages-stage fan-out (RUN sleep 2 each, gathered by COPY --from into scratch), cold, through a running farm" \
  "($( [ "$farm" = up ] && echo "stagefarm up: Kafka broker" || echo "the local farm: in-process bus, no broker"))"
echo "($(nproc) cores; $rounds rounds per worker count, medians; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-7s %9s %9s %7s %9s %9s %7s %9s %16s %14s\n' workers "fan wall" "crit wall" ratio "fan span" "crit span" ratio \
  speed-up "fan CPU (farm)" "load (min-max)"
first_fan=
for workers in "${counts[@]}"; do
  fw=$(col 1 "$work/fan-$workers" | median); cw=$(col 1 "$work/crit-$workers" | median)
  fs=$(col 2 "$work/fan-$workers" | median); cs=$(col 2 "$work/crit-$workers" | median)
  fc=$(col 3 "$work/fan-$workers" | median)
  loads=$(cat "$work/fan-$workers" "$work/crit-$workers" | cut -d' ' -f4 | sort -g | sed -n '1p;$p' | paste -sd-)
  [ -n "$first_fan" ] || first_fan=$fw
  printf '%-7s %8.2fs %8.2fs %6.2fx %8.2fs %8.2fs %6.2fx %8.2fx %15.2fs %14s\n' "$workers" "$fw" "$cw" \
    "$(awk -v a="$fw" -v b="$cw" 'BEGIN { print a / b }')" "$fs" "$cs" "$(awk -v a="$fs" -v b="$cs" 'BEGIN { print a / b }')" \
    "$(awk -v a="$first_fan" -v b="$fw" 'BEGIN { print a / b }')" "$fc" "$loads"
  if [ "$workers" -ge "$stages" ]; then
    # both: the wall carries the client's start and the planning, which at a high load dwarf the stages and
    # flatter the ratio; the span is the farm's execution alone
    for m in "wall $fw $cw" "span $fs $cs"; do
      set -- $m
      echo "        workers >= stages, $1: the fan-out is $(awk -v a="$2" -v b="$3" 'BEGIN { print (a <= 1.3 * b) ? "within" : "NOT within" }') 1.3x its critical path ($2 s against 1.3 x $3 = $(awk -v b="$3" 'BEGIN { printf "%.2f", 1.3 * b }') s)"
    done
  fi
done
echo "(wall: the JVM client's build command, start to exit; span: first stage taken -> last stage acknowledged, in the"
echo " farm's log; critical path: the same farm building one branch and the gather, cold; speed-up: over ${counts[0]} worker(s))"
