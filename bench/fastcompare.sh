#!/usr/bin/env bash
# One run, BuildKit and stagefarm's fast path side by side: bench/fanout, bench/chain, bench/bigfile built cold
# then warm by BuildKit (docker.io's, a private dockerd, daemon running; stopped before stagefarm runs), then by
# `./stagefarm build` through the local farm (started by a warm-up build of another context first, so that no
# measured build includes the farm's start-up; WORKERS single-slot workers; the launcher's fast path), cold and
# warm. Prints seconds and stagefarm/BuildKit. Usage: bench/fastcompare.sh [WORKERS]   (default 8)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
. scripts/env.sh
stagefarm_select_jdk
stagefarm_ensure_packages "${STAGEFARM_RUNTIME_PACKAGES[@]}" docker-registry:docker-registry dockerd:docker.io
workers=${1:-8}
benches=(fanout chain bigfile)
work=$(mktemp -d /tmp/stagefarm-fastcompare.XXXXXX)
registry_pid=
dockerd_pid=
export STAGEFARM_HOME="$work/home"
cleanup() {
  stagefarm_stop_dockerd || true
  ./stagefarm farm stop > /dev/null 2>&1 || true
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

./stagefarm --version > /dev/null # builds the CLI outside the measurements
stagefarm_start_registry "$work/registry"
base="127.0.0.1:$registry_port/library/busybox:latest"
./stagefarm image busybox-rootfs "$work/rootfs" > /dev/null
./stagefarm image import "$work/rootfs" --cmd sh -t "$base" --insecure-registry "127.0.0.1:$registry_port" > /dev/null
declare -A seconds
now() { date +%s.%N; }
measure() { # $1 = label, rest = command
  local label=$1 t0 t1; shift
  t0=$(now); "$@" > "$work/last.out" 2> "$work/last.err" || { cat "$work/last.err" >&2; exit 1; }; t1=$(now)
  seconds[$label]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  printf '  %-24s %6.2fs  load %s\n' "$label" "${seconds[$label]}" "$(cut -d' ' -f1 /proc/loadavg)" >&2
}
buildkit_build() { DOCKER_BUILDKIT=1 /usr/bin/docker -H "$DOCKER_SOCK" build -q --build-arg "BASE=$base" -t "bench-$1" "bench/$1"; }
sf_build() { ./stagefarm build --progress quiet --workers "$workers" --insecure-registry "127.0.0.1:$registry_port" \
  --build-arg "BASE=$base" "bench/$1"; }

echo "fastcompare: $(nproc) cores, $workers workers, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
stagefarm_start_dockerd "$work/dockerd"
for bench in "${benches[@]}"; do
  /usr/bin/docker -H "$DOCKER_SOCK" builder prune -af > /dev/null
  /usr/bin/docker -H "$DOCKER_SOCK" image prune -af > /dev/null
  measure "buildkit $bench cold" buildkit_build "$bench"
  measure "buildkit $bench warm" buildkit_build "$bench"
done
stagefarm_stop_dockerd
# the local farm, started (and its clients' AppCDS archives written) by a build of another context
mkdir -p "$work/warmup" && printf 'ARG BASE\nFROM ${BASE}\nRUN true\n' > "$work/warmup/Dockerfile"
./stagefarm build --progress quiet --workers "$workers" --insecure-registry "127.0.0.1:$registry_port" \
  --build-arg "BASE=$base" "$work/warmup" > /dev/null 2>&1
./stagefarm build --progress quiet --workers "$workers" --insecure-registry "127.0.0.1:$registry_port" \
  --build-arg "BASE=$base" "$work/warmup" > /dev/null 2>&1
for bench in "${benches[@]}"; do
  measure "stagefarm $bench cold" sf_build "$bench"
  measure "stagefarm $bench warm" sf_build "$bench"
done
echo "bench cache: BuildKit / stagefarm (fast path, local farm) = ratio" >&2
for bench in "${benches[@]}"; do
  for cache in cold warm; do
    bk=${seconds["buildkit $bench $cache"]}; sf=${seconds["stagefarm $bench $cache"]}
    printf '%-8s %-5s %6.2f / %6.2f = %.2fx\n' "$bench" "$cache" "$bk" "$sf" "$(awk -v a="$sf" -v b="$bk" 'BEGIN { print a / b }')"
  done
done
