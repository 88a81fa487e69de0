#!/usr/bin/env bash
# Benchmark (issue 12): coordinator throughput. A real coordinator (CoordinatorNode: election,
# fenced transactional producer, outbox, journal, event stream) on a real Kafka broker and S3
# (in-JVM), builds of no-op stages (default one build of 10,000 leaf stages + 100 gatherers + a
# final stage), and synthetic workers (share consumers that complete each task at once, signed with
# the workers' key). Prints dispatches/s counted on the broker, completions processed/s, end-to-end
# stages/s, the coordinator threads' CPU, the JVM's heap and the load average. Not a test.
# Usage: bench/dispatch.sh [LEAVES] [BUILDS] [SLOTS]   (default 10000 1 1000)
#   DISPATCH_JFR=FILE records a JFR profile of the run into FILE; DISPATCH_KEYS=shared signs with one HMAC key
#   instead of Ed25519 role keys (what the signatures cost).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
. scripts/env.sh
stagefarm_select_jdk
cp_file=$root/coordinator/target/dispatch-bench.classpath
# -am compiles the modules it needs in this tree (no install into the shared ~/.m2)
./mvnw -B --no-transfer-progress -q -o -pl coordinator -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
cp=$root/coordinator/target/test-classes:$root/coordinator/target/classes:$(cat "$cp_file")
jfr=()
if [ -n "${DISPATCH_JFR:-}" ]; then
  jfr=("-XX:StartFlightRecording=filename=$DISPATCH_JFR,settings=profile,dumponexit=true")
fi
exec "$JAVA_HOME/bin/java" -Xmx2g "${jfr[@]}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$cp" dev.stagefarm.coordinator.DispatchBench "${1:-10000}" "${2:-1}" "${3:-1000}" 2>&1 \
  | grep -E '^BENCH|Exception|ERROR' || true
