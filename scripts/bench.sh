#!/usr/bin/env bash
# Routing-stage benchmark, measured against the raw Redis ceilings in the same run (the machine
# is shared and noisy: compare ratios, not absolute numbers). Writes BENCHMARKS.md.
# Usage: scripts/bench.sh [--quick]   (--quick: short runs, no BENCHMARKS.md; used as a smoke test)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1
scripts/build.sh release --target routing_bench >/dev/null
work="$(mktemp -d -t leadrouter-bench.XXXXXX)"
redis_pid=""
cleanup() { [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

for _ in $(seq 20); do
  port=$((20000 + RANDOM % 30000))
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" 2>&1 &
  redis_pid=$!
  sleep 0.3
  if kill -0 "$redis_pid" 2>/dev/null && redis-cli -p "$port" ping >/dev/null 2>&1; then break; fi
  redis_pid=""
done
[ -n "$redis_pid" ] || { echo "bench: could not start redis-server" >&2; exit 1; }

n=200000
min_time=2
if [ "$quick" = 1 ]; then n=5000; min_time=0.05; fi

# Raw ceilings: one round trip at a time, and pipelined EVALSHA of a trivial script.
sha="$(redis-cli -p "$port" script load "return 1")"
rtt="$(redis-benchmark -p "$port" -n "$n" -c 1 -q PING 2>/dev/null | grep -o '[0-9.]* requests per second' | cut -d' ' -f1 | tail -1)"
evalsha="$(redis-benchmark -p "$port" -n "$n" -c 1 -P 64 -q EVALSHA "$sha" 0 2>/dev/null | grep -o '[0-9.]* requests per second' | cut -d' ' -f1 | tail -1)"

LEADROUTER_BENCH_REDIS_PORT="$port" build/release/tests/bench/routing_bench \
  --benchmark_min_time="$min_time" --benchmark_format=json --benchmark_out="$work/routing.json" \
  --benchmark_out_format=json >/dev/null
items() {  # items_per_second of one benchmark
  grep -A30 "\"name\": \"$1\"" "$work/routing.json" | grep -m1 '"items_per_second"' |
    sed -E 's/.*: ([0-9.e+]+).*/\1/'
}
route="$(items BM_EngineRoute)"
b1="$(items 'BM_AssignerDecideBatch/1/real_time')"
b50="$(items 'BM_AssignerDecideBatch/50/real_time')"
b500="$(items 'BM_AssignerDecideBatch/500/real_time')"
for v in "$rtt" "$evalsha" "$route" "$b1" "$b50" "$b500"; do
  [ -n "$v" ] || { echo "bench: a measurement is missing" >&2; cat "$work/routing.json" >&2; exit 1; }
done
fmt() { awk -v v="$1" 'BEGIN { printf "%\047.0f", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

table="$(cat <<TABLE
| measurement | per second | vs raw Redis |
| --- | ---: | --- |
| raw Redis: one round trip at a time (\`redis-benchmark -c 1 PING\`) | $(fmt "$rtt") | 1 |
| raw Redis: pipelined EVALSHA (\`redis-benchmark -c 1 -P 64 EVALSHA\`) | $(fmt "$evalsha") | |
| routing engine alone: decisions (7 reps, 4 territories, pure) | $(fmt "$route") | |
| Assigner, batch of 1: leads (qualify + route + 1 load + 1 commit) | $(fmt "$b1") | $(ratio "$b1" "$rtt") x round trips/s |
| Assigner, batch of 50: leads | $(fmt "$b50") | $(ratio "$b50" "$rtt") x round trips/s |
| Assigner, batch of 500: leads | $(fmt "$b500") | $(ratio "$b500" "$evalsha") x pipelined EVALSHA/s |
TABLE
)"
echo "$table"
[ "$quick" = 1 ] && exit 0

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
mem="$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
cat >BENCHMARKS.md <<DOC
# Benchmarks

Measured by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d): $(nproc) cores ($cpu), $mem, shared and
noisy, Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2) on loopback, release build.
Compare the ratios to the raw ceilings measured in the same run, not the absolute numbers.

## Routing stage

$table

A batch costs two Redis round trips (one pipelined load of the routing counters and the batch's
stored outcomes, one compare-and-set commit script), whatever its size, so throughput grows with
the batch until the in-process work (qualification, routing, protobuf encoding of the stored
outcomes) dominates. Single-lead batches are bound by the round trip.

Not yet measured here (issue "Performance"): end-to-end throughput from Kafka, latency at a fixed
offered load, memory per lead.
DOC
echo "wrote BENCHMARKS.md"
