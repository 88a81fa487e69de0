# Sourced by the bench scripts: the repository root as the working directory, the JDK, the packages a build
# needs, a local registry with the busybox base image, and (bench_workdir) a private work directory with traps
# that stop everything a bench started — local farms, dockerd, the registry, a running measurement, buildah's
# containers, mounts left under the directory — on exit, Ctrl-C (SIGINT) or SIGTERM.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
. scripts/env.sh
stagefarm_select_jdk
stagefarm_ensure_packages "${STAGEFARM_RUNTIME_PACKAGES[@]}" docker-registry:docker-registry

# bench_base DIR CLI…: starts docker-registry under DIR and pushes a busybox image made from Debian's
# busybox-static with CLI (a stagefarm command line); sets registry_pid, port and base (the image reference).
bench_base() {
  local dir=$1; shift
  stagefarm_start_registry "$dir/registry"
  port=$registry_port
  base="127.0.0.1:$port/library/busybox:latest"
  "$@" image busybox-rootfs "$dir/rootfs" > /dev/null
  "$@" image import "$dir/rootfs" --cmd sh -t "$base" --insecure-registry "127.0.0.1:$port" > /dev/null
}

# bench_workdir NAME: makes $work (/tmp/stagefarm-NAME.XXXXXX), exports STAGEFARM_HOME=$work/home (the local
# farm's and one-shot builds' state) and installs the traps: EXIT runs bench_cleanup, INT and TERM exit (130, 143)
# through it. Measured commands run through bench_run so that a signal stops them too.
bench_workdir() {
  work=$(mktemp -d "/tmp/stagefarm-$1.XXXXXX")
  export STAGEFARM_HOME="$work/home"
  registry_pid= dockerd_pid= dockerd_dir= bench_child= bench_buildah=
  bench_farm_homes=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# bench_farm_home DIR: a STAGEFARM_HOME whose local farm bench_cleanup stops (the default one is registered).
bench_farm_home() { bench_farm_homes+=("$1"); }

# bench_stop_farm [HOME]: stops the local farm of HOME (default $STAGEFARM_HOME): `stagefarm farm stop`, then its
# pid (farm.properties) with SIGTERM and, after 30 s, SIGKILL if it is still there.
bench_stop_farm() {
  local home=${1:-$STAGEFARM_HOME} pid= _
  [ -d "$home/farm" ] || return 0
  pid=$(sed -n 's/^pid=//p' "$home/farm/farm.properties" 2>/dev/null || true)
  STAGEFARM_HOME=$home STAGEFARM_NO_FAST=1 ./stagefarm farm stop > /dev/null 2>&1 || true
  [ -n "$pid" ] || return 0
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; [ "$_" = 100 ] && kill "$pid" 2>/dev/null; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local rc=$? home mnt _
  trap - EXIT INT TERM
  if [ -n "${bench_child:-}" ] && kill -0 "$bench_child" 2>/dev/null; then
    # the launcher forwards SIGTERM to the thin client (which cancels the build on the farm); a one-shot JVM stops
    # its embedded farm; docker and buildah clients stop
    kill -TERM "$bench_child" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$bench_child" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$bench_child" 2>/dev/null || true
  fi
  if [ -n "${dockerd_pid:-}${dockerd_dir:-}" ]; then stagefarm_stop_dockerd || true; fi
  for home in "${STAGEFARM_HOME:-}" "${bench_farm_homes[@]}"; do [ -n "$home" ] && bench_stop_farm "$home"; done
  if [ -n "${bench_buildah:-}" ]; then
    buildah --root "$bench_buildah/root" --runroot "$bench_buildah/run" rm --all > /dev/null 2>&1 || true
    buildah --root "$bench_buildah/root" --runroot "$bench_buildah/run" rmi --all --force > /dev/null 2>&1 || true
  fi
  if [ -n "${registry_pid:-}" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  if [ -n "${work:-}" ] && [ -d "$work" ]; then
    # whatever is still mounted under the work directory (buildah's overlay, a killed worker's), deepest first
    for mnt in $(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r); do
      umount -l "$mnt" 2>/dev/null || true
    done
    rm -rf "$work" 2>/dev/null || true
    [ ! -e "$work" ] || echo "bench: could not remove $work" >&2
  fi
  return "$rc"
}

# bench_cli: builds the CLI (and the thin client) outside any measurement and remembers the jar's time, so that
# bench_check_cli can refuse to go on when the launcher would rebuild it in the middle of a run (sources edited).
bench_cli() {
  ./stagefarm --version > /dev/null
  bench_jar_time=$(stat -c %Y cli/target/stagefarm.jar)
}
bench_check_cli() {
  if [ -n "$(find pom.xml ./*/pom.xml ./*/src/main -newer cli/target/stagefarm.jar -type f -print -quit 2>/dev/null)" ] \
      || [ "$(stat -c %Y cli/target/stagefarm.jar)" != "$bench_jar_time" ]; then
    echo "bench: the sources changed under the bench (the launcher would rebuild the CLI inside a measurement); run it in a tree nobody edits" >&2
    exit 1
  fi
}

# bench_run OUT ERR CMD…: runs CMD in the background (so that INT/TERM reach the traps at once) with its output in
# OUT/ERR, waits, and sets bench_rc and bench_cpu (user + sys seconds of CMD and every process it waited for: the
# shell's reaped children's times, from `times` in this shell, before and after).
bench_run() {
  local out=$1 err=$2 before after; shift 2
  times > "$work/.times"; before=$(bench_times_line)
  "$@" > "$out" 2> "$err" < /dev/null &
  bench_child=$!
  bench_rc=0
  wait "$bench_child" || bench_rc=$?
  bench_child=
  times > "$work/.times"; after=$(bench_times_line)
  bench_cpu=$(awk -v a="$before" -v b="$after" 'function s(x,  n, p, t, i) { n = split(x, p, " "); t = 0
      for (i = 1; i <= n; i++) { split(p[i], q, "m"); sub("s", "", q[2]); t += q[1] * 60 + q[2] } return t }
    BEGIN { printf "%.2f", s(b) - s(a) }')
}
# the children's line of `times` (its second: user and sys, e.g. "0m1.250s 0m0.310s"), read without a process
bench_times_line() { local line; { read -r line; read -r line; } < "$work/.times"; echo "$line"; }

# bench_tree_cpu PID: user + sys seconds of PID and its live descendants, each with its reaped children's
# (/proc/PID/stat fields 14-17), e.g. a local farm's JVM with the runc processes its workers started.
bench_tree_cpu() {
  local pids=("$1") i=0 child
  [ -r "/proc/$1/stat" ] || { echo 0; return; }
  while [ "$i" -lt "${#pids[@]}" ]; do
    for child in $(cat /proc/"${pids[$i]}"/task/*/children 2>/dev/null); do pids+=("$child"); done
    i=$((i + 1))
  done
  # the command name (field 2) may hold spaces: count the fields after its closing parenthesis
  for child in "${pids[@]}"; do cat "/proc/$child/stat" 2>/dev/null || true; done \
    | awk -v h="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%.2f", t / h }'
}

bench_load() { cut -d' ' -f1 /proc/loadavg; }

# bench_oneshot_training DIR: a context for the one-shot's training build (the launcher's AOT cache records its
# first --one-shot run, bench/README.md "Session 11"): RUNs in two stages, one after a COPY --from, so that the
# cache holds the RUN path's classes and some of its profiles. Its base is the BASE build argument.
bench_oneshot_training() {
  mkdir -p "$1"
  printf '%s\n' 'ARG BASE' 'FROM ${BASE} AS a' 'RUN echo a > /a' 'RUN echo b >> /a' 'FROM ${BASE}' \
    'COPY --from=a /a /a' 'RUN cat /a > /b' 'RUN true' > "$1/Dockerfile"
}

# bench_wait_client_cache [TREE]: waits (at most 120 s per cache) until the launcher of TREE (default: this one) has
# finished making its AOT caches in the background (JDK 25+: the thin client's after the first served fast-path run,
# the one-shot's after a recorded --one-shot run), so that their seconds of CPU do not land in a measured build.
bench_wait_client_cache() {
  local tree=${1:-.} lock
  for lock in "$tree"/farmrun/target/stagefarm-run-*.aot.lock "$tree"/cli/target/stagefarm-oneshot-*.aot.lock; do
    [ -f "$lock" ] || continue
    flock -w 120 "$lock" true || echo "bench: $lock is still held after 120 s; going on" >&2
  done
}
