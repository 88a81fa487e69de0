#!/usr/bin/env bash
# Benchmark (issue 12): coordinator throughput, builds of no-op stages (default one build of 10,000
# leaf stages + 100 gatherers + a final stage) and synthetic workers that complete each task at once.
# Two farms (bench/README.md, "Coordinator throughput"):
#   FARM=kafka (default): the Kafka-backed farm (`stagefarm up`, --coordinator): a real coordinator
#     (CoordinatorNode: election, fenced transactional producer, outbox, journal, event stream) on a
#     real Kafka broker and S3 (in-JVM); synthetic workers are share consumers, events signed with the
#     workers' role key; dispatches/s counted on the broker (append times).
#   FARM=local: the local farm's transport (`stagefarm build` without --coordinator): the coordinator
#     on the in-process bus (no broker, no election, journal in memory, directory store, one shared
#     farm key); synthetic workers are members of the bus's share queue; dispatches/s counted from
#     their claims.
# Prints dispatches/s, completions processed/s, end-to-end stages/s, the dispatch phase's CPU per stage
# by part (coordinator, synthetic workers, broker, GC/JIT), the JVM's heap and the load average. Not a test.
# Usage: [FARM=kafka|local] bench/dispatch.sh [LEAVES] [BUILDS] [SLOTS]   (default 10000 1 1000)
#   DISPATCH_WARMUP=LEAVES runs an unmeasured build of LEAVES leaves first (a warm JIT, as in a farm that has
#   been running; default 0: a fresh JVM). DISPATCH_JFR=FILE records a JFR profile of the dispatch phase into
#   FILE. DISPATCH_KEYS=shared (Kafka farm) signs with one HMAC key instead of Ed25519 role keys (what the
#   signatures cost; the local farm always uses one shared key, as `stagefarm build`'s farm does).
#   DISPATCH_EVENTS=two makes the synthetic workers publish started + completed per stage, as workers did
#   before session 11; the default (one) is the completed alone, as a worker does for a stage that ends
#   within its 50 ms start delay (docs/protocol.md). The Ed25519 line says which implementation signs
#   (libsodium or BouncyCastle; -Dstagefarm.ed25519=bouncycastle in JAVA_TOOL_OPTIONS forces the latter).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
. scripts/env.sh
stagefarm_select_jdk
stagefarm_test_classpath coordinator
case "${FARM:-kafka}" in
  kafka|local) ;;
  *) echo "FARM is kafka or local, not '${FARM}'" >&2; exit 2 ;;
esac
DISPATCH_FARM=${FARM:-kafka} exec "$JAVA_HOME/bin/java" -Xmx2g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.log.dev.stagefarm.program.Ed25519Engines=info \
  -cp "$test_cp" dev.stagefarm.coordinator.DispatchBench "${1:-10000}" "${2:-1}" "${3:-1000}" 2>&1 \
  | grep -E '^BENCH|Exception|ERROR|Ed25519 \(farm role keys\)' || true
