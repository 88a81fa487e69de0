#!/usr/bin/env bash
# Benchmark (issue 12, session 11): microseconds of CPU per Ed25519 signature and check, libsodium
# (through JNA) against BouncyCastle's pure Java, as farm role keys use them (program module,
# Ed25519Engines). Not a test. Usage: bench/ed25519.sh [ROUNDS] [MESSAGE_BYTES]   (default 20000 400)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
. scripts/env.sh
stagefarm_select_jdk
stagefarm_test_classpath program
"$JAVA_HOME/bin/java" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$test_cp" dev.stagefarm.program.Ed25519Bench \
  "${1:-20000}" "${2:-400}" 2>&1 | grep -E '^BENCH|Exception|ERROR' || true
echo "BENCH load: $(cat /proc/loadavg)"
