#!/usr/bin/env bash
# Benchmark (issue 14; its last line also serves issue 12): 10 tenants submit 100 small builds in
# all (1-stage, 8-stage fan-out, 30-step chain; shared and unshared) at once to a real embedded farm
# of 8 worker slots, and the scheduler's dispatch rate with 10,000 queued no-op stages. Prints
# throughput, p50/p95/p99 queue wait and build time per tenant, slot-time share per tenant against
# its weight with Jain's fairness index, the JVM's heap and CPU, and dispatches/s. Not a test: no
# assertion on times. The last run's table is kept in bench/README.md.
# Usage: bench/load.sh [BUILDS] [TENANTS]   (default 100 10)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
. scripts/env.sh
stagefarm_select_jdk
stagefarm_ensure_packages "${STAGEFARM_RUNTIME_PACKAGES[@]}" "${STAGEFARM_TEST_PACKAGES[@]}"
# -am builds the modules it needs in this tree (no install into the shared ~/.m2)
./mvnw -B --no-transfer-progress -q -pl cli -am test -Dtest=FairLoadBench -Dsurefire.failIfNoSpecifiedTests=false \
  -Dsurefire.excludedGroups= -Dgroups=bench -Dstagefarm.bench.builds="${1:-100}" \
  -Dstagefarm.bench.tenants="${2:-10}" -DtrimStackTrace=true 2>&1 \
  | grep -E '^(tenant|t[0-9]|[0-9]+ builds|contended|Jain|JVM|scheduler)|ERROR|FAIL' || true
