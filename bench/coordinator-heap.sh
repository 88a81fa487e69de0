#!/usr/bin/env bash
# Benchmark (issue 10): N small builds (default 10,000) through one coordinator of a real embedded
# farm, printing the JVM's heap after a full GC every 1,000 builds; it must stay flat. The table is
# kept in bench/README.md. Usage: bench/coordinator-heap.sh [BUILDS]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
. scripts/env.sh
stagefarm_select_jdk
stagefarm_ensure_packages "${STAGEFARM_RUNTIME_PACKAGES[@]}" "${STAGEFARM_TEST_PACKAGES[@]}"
./mvnw -B --no-transfer-progress -q install -DskipTests
./mvnw -B --no-transfer-progress -pl cli surefire:test -Dtest=CoordinatorHeapBench -Dsurefire.excludedGroups= \
  -Dgroups=bench -Dstagefarm.bench.builds="${1:-10000}" -DtrimStackTrace=true 2>&1 \
  | grep -E '^ *(builds|[0-9]+ ) |ERROR|FAIL|Tests run' || true
