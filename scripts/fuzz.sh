#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) in their own clang build, build/fuzz, and runs each
# for a bounded time: decode_fuzzer (the inbound event decoder + validator) and config_fuzzer
# (the config loader, which also compiles the qualification profile and the routing engine).
# Fails on any crash, leak, timeout, out-of-memory or sanitizer report; the offending input is
# kept in build/fuzz/artifacts/<fuzzer>/ (reproduce: build/fuzz/tests/fuzz/<fuzzer> <file>).
# The seed corpora in tests/fuzz/corpus are copied to a temporary directory, never modified.
# Usage: scripts/fuzz.sh [--seconds N]   N seconds per fuzzer, default 60 (ctest runs 10)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a value}"; shift 2 ;;
    --seconds=*) seconds="${1#--seconds=}"; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz: unknown argument: $1 (usage: scripts/fuzz.sh [--seconds N])" >&2; exit 2 ;;
  esac
done
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: --seconds must be a positive integer, got \"$seconds\"" >&2
  exit 2
fi
for tool in clang clang++; do
  if ! command -v "$tool" >/dev/null; then
    echo "fuzz: $tool not installed (scripts/bootstrap.sh installs clang and libclang-rt-14-dev)" >&2
    exit 1
  fi
done

build=build/fuzz
mkdir -p "$build"
# One build/run at a time (a ctest smoke run and a manual run may overlap).
exec 9>"$build/.fuzz.lock"
flock 9

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -DLEADROUTER_FUZZ=ON -DLEADROUTER_WERROR=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" -j"$(nproc)" --target decode_fuzzer config_fuzzer

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

work="$(mktemp -d -t leadrouter-fuzz.XXXXXX)"
trap 'rm -rf "$work"' EXIT

failed=()
run() {  # run <fuzzer> <corpus name> [extra libFuzzer flags...]
  local name="$1" corpus="$2"
  shift 2
  local artifacts="$build/artifacts/$name/" log="$build/logs/$name.log"
  mkdir -p "$artifacts" "$(dirname "$log")" "$work/$corpus"
  cp -R "tests/fuzz/corpus/$corpus/." "$work/$corpus/"
  echo "fuzz: $name for ${seconds}s (log $log)"
  local rc=0
  "$build/tests/fuzz/$name" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "$@" "$work/$corpus" >"$log" 2>&1 || rc=$?
  # Belt and braces: a sanitizer report that did not end the run still fails it.
  if [ "$rc" -ne 0 ] || grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$log"; then
    echo "fuzz: $name FAILED (exit $rc); last lines of $log:" >&2
    tail -n 60 "$log" >&2
    failed+=("$name")
  else
    grep -E '^(Done|stat::)|^#[0-9]+.*DONE' "$log" || true
    echo "fuzz: $name ok"
  fi
}

run decode_fuzzer decode -dict=tests/fuzz/decode.dict
run config_fuzzer config -dict=tests/fuzz/config.dict

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "fuzz: all fuzzers ran ${seconds}s each without a finding"
