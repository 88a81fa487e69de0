#!/usr/bin/env bash
# Benchmark: stagefarm (embedded farm, one CLI invocation per build; and a running
# `stagefarm up` farm) against BuildKit (docker.io's built-in BuildKit on a private
# dockerd, daemon running) and buildah (--jobs WORKERS --layers --isolation chroot) on the
# same machine, in the same run, cold (empty caches) and warm (everything cached), for
#   bench/fanout   8 independent stages of `RUN sleep 2` + a final COPY stage
#   bench/chain    30 chained RUN instructions
#   bench/bigfile  one stage writing 200 MiB of random data, copied into scratch
# All pull the same busybox base from a local registry (made from Debian's
# busybox-static). Prints the wall-clock seconds and the ratios stagefarm/BuildKit
# (< 1 means stagefarm was faster) and buildah/stagefarm.
#
# Usage: bench/run.sh [WORKERS]   (default 8: stagefarm's workers and buildah's --jobs)
# The farm's configuration is ours to choose, and it is chosen so that the farm has as many slots as BuildKit
# has parallelism for the widest case: BuildKit (dockerd's, no max-parallelism set) runs all 8 fan-out stages at
# once, and `stagefarm up --workers N` / `--one-shot --workers N` run N single-slot workers, so N = 8 = the
# fan-out's stages (with 4 the fan-out ran in two waves: 2 × 2 s of `sleep` plus a hand-off on the critical
# path). buildah gets the same --jobs. Idle workers are not free (each polls the broker), which the farm's CPU
# figures include.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
. scripts/env.sh
stagefarm_select_jdk
stagefarm_ensure_packages "${STAGEFARM_RUNTIME_PACKAGES[@]}" docker-registry:docker-registry buildah:buildah \
  dockerd:docker.io iptables-save:iptables
benches=(fanout chain bigfile)
workers=${1:-8}

work=$(mktemp -d /tmp/stagefarm-bench.XXXXXX)
registry_pid=
up_pid=
dockerd_pid=
cleanup() {
  stagefarm_stop_dockerd
  if [ -n "$up_pid" ]; then kill "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; fi
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  buildah --root "$work/buildah" --runroot "$work/buildah-run" rm --all > /dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Build the CLI once, then run a private copy: the launcher rebuilds when sources change, which must not
# happen inside a measurement.
./stagefarm --version > /dev/null
mkdir -p "$work/cli"
cp -r cli/target/stagefarm.jar cli/target/lib "$work/cli/"
sf() { "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$work/cli/stagefarm.jar" "$@"; }
# A build against a running farm as ./stagefarm runs a client (C1 only, the serial GC, an AppCDS archive of
# its own that the first build writes at exit): the launcher is bypassed only so that it cannot rebuild the CLI
# in the middle of a measurement. (BuildKit's client, docker, is a native binary.)
sf_client() {
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto \
    -XX:SharedArchiveFile="$work/cli/stagefarm-client-build.jsa" -XX:+AutoCreateSharedArchive -Xlog:cds=off \
    -Xlog:cds+dynamic=off -jar "$work/cli/stagefarm.jar" "$@"
}
# --one-shot as ./stagefarm runs it: the server JIT and GC, and an AppCDS archive of its own (the cold build,
# the first, writes it at exit)
sf_oneshot() {
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xshare:auto \
    -XX:SharedArchiveFile="$work/cli/stagefarm-oneshot.jsa" -XX:+AutoCreateSharedArchive -Xlog:cds=off \
    -Xlog:cds+dynamic=off -jar "$work/cli/stagefarm.jar" "$@"
}

stagefarm_start_registry "$work/registry"
port=$registry_port
base="127.0.0.1:$port/library/busybox:latest"
sf image busybox-rootfs "$work/rootfs" > /dev/null
sf image import "$work/rootfs" --cmd sh -t "$base" --insecure-registry "127.0.0.1:$port" > /dev/null

export STAGEFARM_HOME="$work/stagefarm-home"
# write the one-shot JVM's AppCDS archive before measuring (a JVM writes it at exit, which costs seconds once),
# with a farm home of its own so that the measured cold builds stay cold
mkdir -p "$work/cds-ctx" && printf 'ARG BASE\nFROM ${BASE}\nRUN true\n' > "$work/cds-ctx/Dockerfile"
STAGEFARM_HOME="$work/cds-home" sf_oneshot build --progress quiet --workers 1 --one-shot \
  --insecure-registry "127.0.0.1:$port" --build-arg "BASE=$base" "$work/cds-ctx" > /dev/null 2>&1 || true
now() { date +%s.%N; }
declare -A seconds

coordinator_flag=()
stagefarm_build() { # $1 = bench dir; without a coordinator: --one-shot (the embedded farm, started for this build)
  local run=sf_oneshot
  if [ ${#coordinator_flag[@]} -gt 0 ]; then run=sf_client; fi # --one-shot runs the farm: server JVM flags
  "$run" build --progress quiet --workers "$workers" "${coordinator_flag[@]:---one-shot}" --insecure-registry "127.0.0.1:$port" \
    --build-arg "BASE=$base" "bench/$1" > "$work/last.out" 2> "$work/last.err" \
    || { cat "$work/last.err" >&2; exit 1; }
}
buildah_build() { # $1 = bench dir
  buildah --root "$work/buildah" --runroot "$work/buildah-run" build --jobs "$workers" --layers --isolation chroot \
    --runtime /usr/sbin/runc --tls-verify=false --build-arg "BASE=$base" -t "bench-$1" -q "bench/$1" \
    > "$work/last.out" 2> "$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
}
buildkit_build() { # $1 = bench dir
  DOCKER_BUILDKIT=1 /usr/bin/docker -H "$DOCKER_SOCK" build -q --build-arg "BASE=$base" -t "bench-$1" "bench/$1" \
    > "$work/last.out" 2> "$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
}
buildkit_reset() { # cold: no build cache, no base image, no results
  /usr/bin/docker -H "$DOCKER_SOCK" builder prune -af > /dev/null
  /usr/bin/docker -H "$DOCKER_SOCK" image prune -af > /dev/null
}
measure() { # $1 = label, rest = command
  local label=$1; shift
  local t0 t1
  t0=$(now); "$@"; t1=$(now)
  seconds[$label]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  printf '  %-28s %6.1fs\n' "$label" "${seconds[$label]}" >&2
}

echo "stagefarm bench: $(nproc) cores, $workers stagefarm workers, buildah --jobs $workers, BuildKit (docker.io)" >&2
stagefarm_start_dockerd "$work/dockerd"
for bench in "${benches[@]}"; do
  buildkit_reset
  measure "buildkit $bench cold" buildkit_build "$bench"
  measure "buildkit $bench warm" buildkit_build "$bench"
done
stagefarm_stop_dockerd # not competing for the cores with the others
for bench in "${benches[@]}"; do
  measure "stagefarm $bench cold" stagefarm_build "$bench"
  measure "stagefarm $bench warm" stagefarm_build "$bench"
  measure "buildah $bench cold" buildah_build "$bench"
  measure "buildah $bench warm" buildah_build "$bench"
  buildah --root "$work/buildah" --runroot "$work/buildah-run" rmi --all --force > /dev/null 2>&1 || true
  rm -rf "$STAGEFARM_HOME" # the next benchmark starts cold again
done

# The same builds against a farm that is already running (stagefarm up), as a team would use it:
# the farm's start-up is not part of the build.
up_port=$((port + 1))
while ! stagefarm_port_free "$up_port"; do up_port=$((up_port + 1)); done
for bench in "${benches[@]}"; do
  while ! stagefarm_port_free "$up_port"; do up_port=$((up_port + 1)); done
  # exec: $! must be the JVM itself, so that kill stops the farm
  (exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$work/cli/stagefarm.jar" up --port "$up_port" \
    --workers "$workers" --data "$work/up-$bench" --insecure-registry "127.0.0.1:$port") > "$work/up.log" 2>&1 &
  up_pid=$!
  for _ in $(seq 600); do grep -q "stagefarm is up" "$work/up.log" && break; sleep 0.1; done
  grep -q "stagefarm is up" "$work/up.log" || { cat "$work/up.log" >&2; exit 1; }
  coordinator_flag=(--coordinator "127.0.0.1:$up_port")
  measure "farm $bench cold" stagefarm_build "$bench"
  measure "farm $bench warm" stagefarm_build "$bench"
  coordinator_flag=()
  kill "$up_pid"; wait "$up_pid" 2>/dev/null || true; up_pid=
  up_port=$((up_port + 1))
done

echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-8s %-5s %9s %9s %9s %9s %11s %11s %11s\n' bench cache BuildKit "sf up" "sf emb" buildah \
  "up/BuildKit" "emb/BuildKit" "buildah/up"
for bench in "${benches[@]}"; do
  for cache in cold warm; do
    bk=${seconds["buildkit $bench $cache"]}
    sf=${seconds["stagefarm $bench $cache"]}
    up=${seconds["farm $bench $cache"]}
    bh=${seconds["buildah $bench $cache"]}
    printf '%-8s %-5s %8.1fs %8.1fs %8.1fs %8.1fs %10sx %10sx %10sx\n' "$bench" "$cache" "$bk" "$up" "$sf" "$bh" \
      "$(ratio "$up" "$bk")" "$(ratio "$sf" "$bk")" "$(ratio "$bh" "$up")"
  done
done
echo "(up = against a running 'stagefarm up' farm, each build a separate CLI run; emb = one CLI run with an"
echo " embedded farm, its start-up included; up/BuildKit < 1 means stagefarm was faster than BuildKit;"
echo " buildah/up > 1 means stagefarm was faster than buildah)"
