#!/usr/bin/env bash
# Scaling curve: the 32-stage fan-out (bench/fanout32: 32 × `RUN sleep 2`, gathered by one COPY stage) built
# cold through a running farm (`stagefarm up`) with 1, 2, 4, 8, 16 workers, against its critical path (the same
# build with one branch: one RUN stage and the gather, cold, on the same farm). Prints seconds and the ratios
# fan-out / critical path (the issue's bar: <= 1.3 once workers >= stages) and speed-up over 1 worker.
#
# Usage: bench/scaling.sh [WORKER COUNTS…]   (default: 1 2 4 8 16)
. "$(dirname "$(readlink -f "$0")")/lib.sh"
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 2 4 8 16)

work=$(mktemp -d /tmp/stagefarm-scaling.XXXXXX)
registry_pid=
up_pid=
cleanup() {
  if [ -n "$up_pid" ]; then kill "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; fi
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

./stagefarm --version > /dev/null # builds the CLI when needed, outside the measurement
mkdir -p "$work/cli"
cp -r cli/target/stagefarm.jar cli/target/lib "$work/cli/"
sf() { "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$work/cli/stagefarm.jar" "$@"; }

bench_base "$work" sf

# the critical path: one branch of the fan-out and its gather
mkdir -p "$work/one"
awk '/^FROM \$\{BASE\} AS s2$/ { exit } { print }' bench/fanout32/Dockerfile > "$work/one/Dockerfile"
printf 'FROM scratch\nCOPY --from=s1 /out-1 /\n' >> "$work/one/Dockerfile"

now() { date +%s.%N; }
build() { # $1 = farm port, $2 = context, $3 = nonce
  sf build --progress quiet --coordinator "127.0.0.1:$1" --build-arg "BASE=$base" --build-arg "NONCE=$3" "$2" \
    > "$work/last.out" 2> "$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
}
timed() { # prints seconds
  local t0 t1; t0=$(now); "$@"; t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

declare -A fan crit
up_port=$((port + 1))
for workers in "${counts[@]}"; do
  while ! stagefarm_port_free "$up_port"; do up_port=$((up_port + 1)); done
  (exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$work/cli/stagefarm.jar" up --port "$up_port" \
    --workers "$workers" --data "$work/up-$workers" --insecure-registry "127.0.0.1:$port") > "$work/up.log" 2>&1 &
  up_pid=$!
  for _ in $(seq 1200); do grep -q "stagefarm is up" "$work/up.log" && break; sleep 0.1; done
  grep -q "stagefarm is up" "$work/up.log" || { cat "$work/up.log" >&2; exit 1; }
  build "$up_port" "$work/one" "warm-up" # pulls the base into the farm's store: not part of either time
  crit[$workers]=$(timed build "$up_port" "$work/one" "crit-$RANDOM$RANDOM")
  fan[$workers]=$(timed build "$up_port" bench/fanout32 "fan-$RANDOM$RANDOM")
  printf '  %2d workers: fan-out %6.1fs, critical path %5.1fs\n' "$workers" "${fan[$workers]}" "${crit[$workers]}" >&2
  kill "$up_pid"; wait "$up_pid" 2>/dev/null || true; up_pid=
  rm -rf "$work/up-$workers"
done

echo
echo "32-stage fan-out, cold, through a running farm ($(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-8s %10s %14s %16s %10s\n' workers fan-out "critical path" "fan-out/critical" speed-up
first=${fan[${counts[0]}]}
for workers in "${counts[@]}"; do
  printf '%-8s %9.1fs %13.1fs %15.2fx %9.2fx\n' "$workers" "${fan[$workers]}" "${crit[$workers]}" \
    "$(awk -v a="${fan[$workers]}" -v b="${crit[$workers]}" 'BEGIN { printf "%.2f", a / b }')" \
    "$(awk -v a="$first" -v b="${fan[$workers]}" 'BEGIN { printf "%.2f", a / b }')"
done
echo "(critical path = the same build with one branch, cold, on the same farm; speed-up = over ${counts[0]} worker(s))"
