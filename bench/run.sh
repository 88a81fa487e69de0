#!/usr/bin/env bash
# Issue 12's bench run: in ONE run on this machine, for bench/fanout, bench/chain, bench/bigfile and bench/fanout32,
# cold (empty caches) then warm (everything cached), one after the other so that none competes with another:
#   1. BuildKit: docker.io's built-in BuildKit on a private dockerd (daemon running; stopped after its builds);
#   2. buildah: build --jobs WORKERS --layers --isolation chroot --runtime /usr/sbin/runc;
#   3. stagefarm through the running local farm as a user runs it: `./stagefarm build` without --coordinator or
#      --one-shot (the launcher's fast path: its thin client hands the build to the farm), the farm (WORKERS
#      single-slot workers) started by a warm-up build of another context first, so that no measured build
#      includes its start-up; stopped after its builds;
#   4. stagefarm --one-shot (`./stagefarm build --one-shot`: an embedded farm started for each build; a fresh
#      STAGEFARM_HOME per bench, so its first build is cold and its second warm);
# plus a Dockerfile syntax error's time to report (BuildKit, the fast path, one-shot). Then it prints every ratio
# of issue 12's "Done when" with PASS/MISS, and the load average (1 min) at each measurement's start.
#
# Usage: bench/run.sh [--workers N] [--rounds N] [--export oci|docker|none] [--benches a,b,…] [--stagefarm-only]
#                     [--scaling "COUNTS"] [--dispatch LEAVES]      (bench/README.md, "bench/run.sh: how to run")
#   --workers N   stagefarm's workers (local and one-shot farm) and buildah's --jobs (default 32: the local farm's
#                 own default since session 9, and BuildKit, which has no limit, runs all of fanout32's 32 stages at
#                 once; with 8, fanout32 runs in 4 waves on every contender but BuildKit)
#   --rounds N    how many times each warm build and the syntax error are measured (median shown; default 5: warm
#                 builds take 0.1-0.25 s, where one round of 3 moved a ratio by 0.3); each
#                 cold build is measured once (it needs empty caches)
#   --export      oci (default, the issue's "build plus export to an OCI tar"): stagefarm `-o type=oci,dest=FILE`,
#                 buildah `push … oci-archive:FILE`, BuildKit `docker build -t` + `docker save -o FILE` (dockerd
#                 20.10's BuildKit has no oci or docker exporter, only its image store, local and tar; `docker save`
#                 writes a docker-archive, its layers uncompressed) — docker: stagefarm `-o type=docker,dest=FILE`
#                 and buildah `docker-archive:FILE` (the same format as `docker save`) — none: build only, the image
#                 kept in each tool's own store (as session 7's fastcompare measured)
#   --stagefarm-only  neither BuildKit nor buildah: the fast path and --one-shot only (the one-shot's gap to the
#                 farm; the ratios to BuildKit are not judged)
#   --scaling "1 2 4 8 16 32"   then runs bench/scaling.sh with these worker counts (fan-out vs critical path),
#                               through the local farm (SCALING_FARM=up: `stagefarm up` instead)
#   --dispatch LEAVES           then runs bench/dispatch.sh LEAVES 1 1000 (coordinator dispatches/s), Kafka-backed farm
#                               and FARM=local (the local farm's in-process bus), each judged
# Old form: bench/run.sh WORKERS.
. "$(dirname "$(readlink -f "$0")")/lib.sh"

workers=32 rounds=5 export_mode=oci scaling_counts= dispatch_leaves= others=true
benches=(fanout chain bigfile fanout32)
while [ $# -gt 0 ]; do
  case $1 in
    --workers) workers=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --export) export_mode=$2; shift 2 ;;
    --benches) IFS=, read -r -a benches <<< "$2"; shift 2 ;;
    --scaling) scaling_counts=$2; shift 2 ;;
    --dispatch) dispatch_leaves=$2; shift 2 ;;
    --stagefarm-only) others=false; shift ;;
    [0-9]*) workers=$1; shift ;;
    -h|--help) sed -n '2,/^# Old form/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $export_mode in oci|docker|none) ;; *) echo "bench/run.sh: --export oci|docker|none, not $export_mode" >&2; exit 2 ;; esac
[[ $workers =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench/run.sh: --workers and --rounds take a positive number" >&2; exit 2; }
for bench in "${benches[@]}"; do [ -f "bench/$bench/Dockerfile" ] || { echo "bench/run.sh: no bench/$bench/Dockerfile" >&2; exit 2; }; done
if [ "$others" = true ]; then stagefarm_ensure_packages buildah:buildah dockerd:docker.io iptables-save:iptables; fi

bench_workdir bench
bench_buildah=$work/buildah
mkdir -p "$work/out" "$work/bad" "$work/warmup"
printf 'FROM scratch\nFRM busybox\n' > "$work/bad/Dockerfile"
printf 'ARG BASE\nFROM ${BASE}\nRUN true\n' > "$work/warmup/Dockerfile"
# the one-shot's training build (its AOT cache, bench_train_oneshot): RUNs in two stages and a COPY --from
bench_oneshot_training "$work/oneshot-training"

bench_cli # the CLI built outside the measurements (the launcher builds it when missing or older than the sources)
bench_base "$work" ./stagefarm
declare -A wall cpu engine load
log() { printf '%s\n' "$*" >&2; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
engine_pid= # dockerd's or the local farm's pid: its process tree's CPU is counted around each build

# measure KEY EXPECT CMD…: one timed run of CMD (EXPECT ok: must succeed; fail: must fail, as a syntax error).
# Records wall[KEY] (seconds), cpu[KEY] (the client's process tree), engine[KEY] (dockerd's or the farm's
# process tree, the idle polling of the farm included), load[KEY] (1-minute load average at the start).
measure() {
  local key=$1 expect=$2 l t0 t1 e0=0 e1=0; shift 2
  bench_check_cli
  rm -f "$work"/out/*
  l=$(bench_load)
  [ -n "$engine_pid" ] && e0=$(bench_tree_cpu "$engine_pid")
  t0=$EPOCHREALTIME
  bench_run "$work/last.out" "$work/last.err" "$@"
  t1=$EPOCHREALTIME
  [ -n "$engine_pid" ] && e1=$(bench_tree_cpu "$engine_pid")
  if [ "$expect" = ok ] && [ "$bench_rc" -ne 0 ]; then
    log "bench/run.sh: $key failed (exit $bench_rc):"; cat "$work/last.err" >&2; exit 1
  fi
  if [ "$expect" = fail ] && [ "$bench_rc" -eq 0 ]; then log "bench/run.sh: $key succeeded, expected an error"; exit 1; fi
  if [ "$expect" = ok ] && [ "$export_mode" != none ] && [ ! -s "$work/out/image.tar" ]; then
    log "bench/run.sh: $key wrote no image tar"; exit 1
  fi
  wall[$key]=$(ms "$t0" "$t1"); cpu[$key]=$bench_cpu; load[$key]=$l
  engine[$key]=$(awk -v a="$e0" -v b="$e1" 'BEGIN { printf "%.2f", b - a }')
  printf '  %-30s %7.2f s wall  client cpu %6.2f s  %-16s load %s\n' "$key" "${wall[$key]}" "$bench_cpu" \
    "${engine_label:+$engine_label cpu ${engine[$key]} s}" "$l" >&2
}
# cold once, then ROUNDS warm builds (keys "T B cold", "T B warm1".."warmN"; "T B warm" = their median)
cold_and_warm() { # $1 = tool, $2 = bench, rest = command
  local tool=$1 bench=$2 r vals=(); shift 2
  measure "$tool $bench cold" ok "$@"
  for r in $(seq "$rounds"); do measure "$tool $bench warm$r" ok "$@"; vals+=("${wall[$tool $bench warm$r]}"); done
  wall[$tool $bench warm]=$(median "${vals[@]}")
  vals=(); for r in $(seq "$rounds"); do vals+=("${load[$tool $bench warm$r]}"); done
  load[$tool $bench warm]=$(median "${vals[@]}")
}
syntax_error() { # $1 = tool, rest = command; checks that the error names the line
  local tool=$1 r vals=() loads=(); shift
  for r in $(seq "$rounds"); do
    measure "$tool syntax$r" fail "$@"
    grep -q -i 'FRM' "$work/last.err" || { log "bench/run.sh: $tool's syntax error does not name the instruction:"; cat "$work/last.err" >&2; exit 1; }
    vals+=("${wall[$tool syntax$r]}"); loads+=("${load[$tool syntax$r]}")
  done
  wall[$tool syntax]=$(median "${vals[@]}"); load[$tool syntax]=$(median "${loads[@]}")
}

# the commands, per tool (output flags by --export)
sf_flags=(build --progress quiet --workers "$workers" --insecure-registry "127.0.0.1:$port" --build-arg "BASE=$base")
case $export_mode in
  oci) sf_out=(-o "type=oci,dest=$work/out/image.tar"); bh_out="oci-archive:$work/out/image.tar" ;;
  docker) sf_out=(-o "type=docker,dest=$work/out/image.tar"); bh_out="docker-archive:$work/out/image.tar" ;;
  none) sf_out=(); bh_out= ;;
esac
docker_cli() { /usr/bin/docker -H "$DOCKER_SOCK" "$@"; }
buildkit_build() { # $1 = bench dir
  DOCKER_BUILDKIT=1 docker_cli build -q --build-arg "BASE=$base" -t "bench-$(basename "$1")" "$1"
  if [ "$export_mode" != none ]; then docker_cli save -o "$work/out/image.tar" "bench-$(basename "$1")"; fi
}
bh() { buildah --root "$bench_buildah/root" --runroot "$bench_buildah/run" "$@"; }
buildah_build() { # $1 = bench dir
  bh build --jobs "$workers" --layers --isolation chroot --runtime /usr/sbin/runc --tls-verify=false \
    --build-arg "BASE=$base" -t "bench-$(basename "$1")" -q "$1"
  if [ -n "$bh_out" ]; then bh push -q "bench-$(basename "$1")" "$bh_out"; fi
}

echo "bench/run.sh: $(nproc) cores, $workers workers (buildah --jobs $workers), export: $export_mode, $rounds warm round(s)," \
  "benches: ${benches[*]}; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
start_time=$EPOCHREALTIME

if [ "$others" = true ]; then
  log "BuildKit (docker.io $(dockerd --version | awk '{ print $3 }' | tr -d ,), private dockerd, daemon running)"
  stagefarm_start_dockerd "$work/dockerd"
  engine_pid=$dockerd_pid engine_label=dockerd
  for bench in "${benches[@]}"; do
    docker_cli builder prune -af > /dev/null
    docker_cli image prune -af > /dev/null
    cold_and_warm buildkit "$bench" buildkit_build "bench/$bench"
  done
  syntax_error buildkit env DOCKER_BUILDKIT=1 /usr/bin/docker -H "$DOCKER_SOCK" build -q "$work/bad"
  stagefarm_stop_dockerd # not competing with the others
  engine_pid= engine_label=

  log "buildah ($(buildah --version | awk '{ print $3 }'), --jobs $workers --layers --isolation chroot)"
  for bench in "${benches[@]}"; do
    bh rmi --all --force > /dev/null 2>&1 || true
    cold_and_warm buildah "$bench" buildah_build "bench/$bench"
  done
  bh rmi --all --force > /dev/null 2>&1 || true
fi

log "stagefarm through the running local farm (./stagefarm build, the launcher's fast path; $workers workers)"
# the farm started by a build of another context (the JVM client; it writes the client's AppCDS archive), then one
# through the fast path (the thin client's archive), so that no measured build includes either
warm_up() { # CMD…: an unmeasured build, through bench_run so that a signal stops it at once
  bench_run "$work/last.out" "$work/last.err" "$@"
  [ "$bench_rc" -eq 0 ] || { cat "$work/last.err" >&2; exit 1; }
}
warm_up ./stagefarm "${sf_flags[@]}" "${sf_out[@]}" "$work/warmup"
warm_up ./stagefarm "${sf_flags[@]}" "${sf_out[@]}" "$work/warmup"
bench_wait_client_cache # the thin client's AOT cache, written in the background after the first fast-path run
farm_pid=$(sed -n 's/^pid=//p' "$STAGEFARM_HOME/farm/farm.properties")
engine_pid=$farm_pid engine_label=farm
for bench in "${benches[@]}"; do
  cold_and_warm farm "$bench" ./stagefarm "${sf_flags[@]}" "${sf_out[@]}" "bench/$bench"
done
syntax_error farm ./stagefarm "${sf_flags[@]}" "$work/bad"
# the same farm served every build (a declined fast path falls back to the JVM client, which would restart a farm
# whose settings differ)
[ "$(sed -n 's/^pid=//p' "$STAGEFARM_HOME/farm/farm.properties" 2>/dev/null)" = "$farm_pid" ] \
  || { log "bench/run.sh: the local farm was replaced during the run"; exit 1; }
bench_stop_farm
engine_pid= engine_label=

log "stagefarm --one-shot (an embedded farm per build, $workers workers)"
# the one-shot JVM's AOT cache (JDK 25+; the AppCDS archive before: the launcher's, seconds of CPU once, made in
# the background after the run) by a build with RUNs of another context in a home of its own
warm_up env STAGEFARM_HOME="$work/oneshot-train" ./stagefarm "${sf_flags[@]}" --one-shot "$work/oneshot-training"
bench_wait_client_cache
for bench in "${benches[@]}"; do
  export STAGEFARM_HOME="$work/oneshot-$bench" # fresh: the first build is cold, the second warm
  cold_and_warm oneshot "$bench" ./stagefarm "${sf_flags[@]}" --one-shot "${sf_out[@]}" "bench/$bench"
done
export STAGEFARM_HOME="$work/home"
syntax_error oneshot ./stagefarm "${sf_flags[@]}" --one-shot "$work/bad"

scaling_out= dispatch_out=
if [ -n "$scaling_counts" ]; then
  log "FARM=${SCALING_FARM:-local} bench/scaling.sh $scaling_counts"
  read -r -a counts <<< "$scaling_counts"
  # through the local farm, as every other case here (FARM=up: `stagefarm up`, the Kafka-backed farm, by hand)
  bench_run "$work/scaling.out" "$work/scaling.err" env FARM="${SCALING_FARM:-local}" bench/scaling.sh "${counts[@]}"
  cat "$work/scaling.err" >&2
  [ "$bench_rc" -eq 0 ] || { log "bench/scaling.sh failed (exit $bench_rc)"; }
  scaling_out=$(cat "$work/scaling.out")
fi
dispatch_local_out=
if [ -n "$dispatch_leaves" ]; then
  # both farms, one after the other: the Kafka-backed farm (stagefarm up, --coordinator) and the local farm's
  # in-process bus (stagefarm build without --coordinator)
  log "bench/dispatch.sh $dispatch_leaves 1 1000 (Kafka-backed farm)"
  bench_run "$work/dispatch.out" "$work/dispatch.err" env FARM=kafka bench/dispatch.sh "$dispatch_leaves" 1 1000
  [ "$bench_rc" -eq 0 ] || { log "bench/dispatch.sh failed (exit $bench_rc)"; cat "$work/dispatch.err" >&2; }
  dispatch_out=$(cat "$work/dispatch.out")
  log "FARM=local bench/dispatch.sh $dispatch_leaves 1 1000 (local farm, in-process bus)"
  bench_run "$work/dispatch-local.out" "$work/dispatch-local.err" env FARM=local bench/dispatch.sh "$dispatch_leaves" 1 1000
  [ "$bench_rc" -eq 0 ] || { log "FARM=local bench/dispatch.sh failed (exit $bench_rc)"; cat "$work/dispatch-local.err" >&2; }
  dispatch_local_out=$(cat "$work/dispatch-local.out")
fi

# the report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { # VALUE OP LIMIT
  awk -v v="$1" -v op="$2" -v lim="$3" 'BEGIN { ok = op == "<=" ? v <= lim : op == "<" ? v < lim : v >= lim; print ok ? "PASS" : "MISS" }'
}
echo
echo "bench/run.sh: one run, $(nproc) cores, $(ms "$start_time" "$EPOCHREALTIME" | awk '{ printf "%.0f", $1 }') s;" \
  "export: $export_mode; $workers workers; warm = median of $rounds; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
cell() { # KEY: "wall [load]", or - when not measured (--stagefarm-only)
  if [ -n "${wall[$1]:-}" ]; then printf '%.2f [%s]' "${wall[$1]}" "${load[$1]}"; else printf -- -; fi
}
echo "seconds wall (1-minute load average at the start, in brackets; for warm the median of the rounds' loads)"
printf '%-9s %-5s %15s %15s %15s %15s\n' bench cache BuildKit buildah "sf farm" "sf one-shot"
for bench in "${benches[@]}"; do
  for cache in cold warm; do
    row=()
    for tool in buildkit buildah farm oneshot; do row+=("$(cell "$tool $bench $cache")"); done
    printf '%-9s %-5s %15s %15s %15s %15s\n' "$bench" "$cache" "${row[@]}"
  done
done
printf '%-15s %15s %15s %15s %15s\n' "syntax error" "$(cell "buildkit syntax")" - "$(cell "farm syntax")" \
  "$(cell "oneshot syntax")"

echo
echo "issue 12, \"Done when\" (sf farm = through the running local farm, the fast path):"
pass=0 miss=0
check() { # $1 = text, $2 = value, $3 = operator (<=, <, >=), $4 = limit, $5 = unit
  local v; v=$(verdict "$2" "$3" "$4")
  printf '  %-4s %-58s %8s%s (target %s %s%s)\n' "$v" "$1" "$2" "$5" "$3" "$4" "$5"
  if [ "$v" = PASS ]; then pass=$((pass + 1)); else miss=$((miss + 1)); fi
}
if [ "$others" = true ]; then
  for bench in "${benches[@]}"; do
    check "$bench cold: sf farm / BuildKit" "$(ratio "${wall[farm $bench cold]}" "${wall[buildkit $bench cold]}")" "<=" 0.90 x
  done
  for bench in "${benches[@]}"; do
    check "$bench warm: sf farm / BuildKit" "$(ratio "${wall[farm $bench warm]}" "${wall[buildkit $bench warm]}")" "<=" 1.00 x
  done
else
  printf '  %-4s %s\n' - "sf farm / BuildKit: not run (--stagefarm-only)"
fi
for bench in "${benches[@]}"; do
  for cache in cold warm; do
    check "$bench $cache: one-shot - sf farm" "$(ms "${wall[farm $bench $cache]}" "${wall[oneshot $bench $cache]}")" "<=" 1.00 " s"
  done
done
check "syntax error reported, fast path (BuildKit: ${wall[buildkit syntax]:--} s)" "${wall[farm syntax]}" '<' 1.00 " s"
check "syntax error reported, one-shot" "${wall[oneshot syntax]}" '<' 1.00 " s"
if [ -n "$scaling_out" ]; then
  fan_stages=$(grep -c '^FROM .* AS s[0-9]' bench/fanout32/Dockerfile)
  # scaling.sh's table rows: WORKERS FAN-OUT CRITICAL RATIO SPEED-UP
  while read -r w f c r s; do
    if [ "$w" -ge "$fan_stages" ]; then
      check "fan-out ($fan_stages stages) / critical path, $w workers" "${r%x}" '<=' 1.30 x
    else
      printf '  %-4s %-58s %8s (not judged: fewer workers than stages)\n' info "fan-out / critical path, $w workers" "$r"
    fi
  done < <(printf '%s\n' "$scaling_out" | awk '$1 ~ /^[0-9]+$/ && NF == 5')
else
  printf '  %-4s %s\n' - "fan-out within 1.3x of its critical path: not run (--scaling \"1 2 4 8 16 32\")"
fi
judge_dispatch() { # $1 = the farm's label, $2 = dispatch.sh's output
  local rate
  rate=$(printf '%s\n' "$2" | sed -n 's/.* \([0-9][0-9]*\) dispatches\/s.*/\1/p' | head -1)
  if [ -z "$rate" ]; then
    printf '  %-4s %s\n' MISS "dispatches/s, $1: bench/dispatch.sh printed no rate"; miss=$((miss + 1))
  elif [ "$dispatch_leaves" -ge 10000 ]; then
    check "dispatches/s, $1, $dispatch_leaves no-op stages" "$rate" '>=' 2000 /s
  else
    printf '  %-4s %s\n' info "$rate dispatches/s, $1, $dispatch_leaves leaves (not judged: fewer than 10,000)"
  fi
  printf '%s\n' "$2" | sed 's/^/    /'
}
if [ -n "$dispatch_leaves" ]; then
  judge_dispatch "Kafka-backed farm" "$dispatch_out"
  judge_dispatch "local farm (bus)" "$dispatch_local_out"
else
  printf '  %-4s %s\n' - "dispatches/s with 10,000 queued no-op stages: not run (--dispatch 10000)"
fi
echo "$pass PASS, $miss MISS"
echo
echo "CPU seconds (user + sys; median over the warm rounds): client = the command's process tree; dockerd / farm ="
echo "the engine's process tree around the build (the local farm's idle polling included; dockerd's containerd-shims,"
echo "which are not its children, not counted); one-shot and buildah run everything in the client's tree"
printf '%-9s %-5s %16s %10s %16s %16s\n' bench cache "BuildKit+dockerd" buildah "sf farm+client" "sf one-shot"
for bench in "${benches[@]}"; do
  for cache in cold warm; do
    if [ "$cache" = warm ]; then
      for tool in buildkit buildah farm oneshot; do
        [ -n "${cpu[$tool $bench warm1]:-}" ] || continue # not run (--stagefarm-only)
        vals=(); evals=()
        for r in $(seq "$rounds"); do vals+=("${cpu[$tool $bench warm$r]}"); evals+=("${engine[$tool $bench warm$r]}"); done
        cpu[$tool $bench warm]=$(median "${vals[@]}"); engine[$tool $bench warm]=$(median "${evals[@]}")
      done
    fi
    printf '%-9s %-5s %16s %10s %16s %16s\n' "$bench" "$cache" \
      "$(if [ -n "${cpu[buildkit $bench $cache]:-}" ]; then printf '%.2f+%.2f' "${cpu[buildkit $bench $cache]}" "${engine[buildkit $bench $cache]}"; else printf -- -; fi)" \
      "${cpu[buildah $bench $cache]:--}" \
      "$(printf '%.2f+%.2f' "${engine[farm $bench $cache]}" "${cpu[farm $bench $cache]}")" "${cpu[oneshot $bench $cache]}"
  done
done
if [ -n "$scaling_out" ]; then echo; printf '%s\n' "$scaling_out"; fi
