#!/usr/bin/env bash
# Runs every test suite on the sanitizer build: unit tests, integration tests against a real
# redis-server and librdkafka's embedded Kafka, and end-to-end tests of the real binaries.
# Each test starts the servers it needs on free loopback ports; nothing external is required.
# Usage: scripts/test.sh [ctest args...]   e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh dev
scripts/format.sh --check

# Leak checking stays on; the suppressions cover leaks inside third-party libraries only.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir build/dev --output-on-failure -j"$(nproc)" --timeout 300 "$@"
