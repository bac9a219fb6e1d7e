#!/usr/bin/env bash
# Builds leadrouter. Usage: scripts/build.sh [dev|release] [cmake --build args...]
#   dev      Debug + AddressSanitizer/UndefinedBehaviorSanitizer (what the tests run)
#   release  optimized (the demo, benchmarks, deployment)
# Installs missing Debian packages first, configures, then builds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

preset="${1:-dev}"
shift || true
case "$preset" in
  dev|release) ;;
  *) echo "usage: scripts/build.sh [dev|release] [build args...]" >&2; exit 2 ;;
esac

scripts/bootstrap.sh
# Configuring again is cheap and picks up new targets before they are asked for by name.
cmake --preset "$preset" >/dev/null
cmake --build "build/$preset" -j"$(nproc)" "$@"
