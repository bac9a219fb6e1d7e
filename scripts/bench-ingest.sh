#!/usr/bin/env bash
# leadrouter-ingest throughput against kcat -P of the same records, in the same run (the machine
# is shared and noisy: compare the ratio, not absolute numbers). The embedded Kafka, one
# leadrouter-ingest, ab (ApacheBench) with C keep-alive connections posting R native LeadEvents
# per request (each acknowledged by Kafka before its 200), then kcat -P of the same records.
# Usage: scripts/bench-ingest.sh [--requests N] [--records R] [--concurrency C] [--build-dir DIR]
#   defaults: 10000 requests of 10 records, 8 connections, build/release (built first)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
requests=10000
records=10
concurrency=8
build_dir="build/release"
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests="$2"; shift ;;
    --records) records="$2"; shift ;;
    --concurrency) concurrency="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    *) echo "usage: scripts/bench-ingest.sh [--requests N] [--records R] [--concurrency C] [--build-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
if [ "$build_dir" = "$root/build/release" ]; then
  scripts/build.sh release --target leadrouter-ingest leadrouter-kafka-mock >/dev/null
fi
ingest_bin="$build_dir/services/ingest/leadrouter-ingest"
kafka_mock_bin="$build_dir/services/kafka-mock/leadrouter-kafka-mock"
for b in "$ingest_bin" "$kafka_mock_bin"; do
  [ -x "$b" ] || { echo "bench-ingest: $b is missing (build it first)" >&2; exit 1; }
done
for tool in kcat ab; do
  command -v "$tool" >/dev/null || { echo "bench-ingest: $tool not installed (scripts/bootstrap.sh)" >&2; exit 1; }
done

source scripts/lib.sh
lr_workdir bench-ingest
fail() { echo "bench-ingest: $*" >&2; exit 1; }

"$kafka_mock_bin" --topic leads.inbound:6 --topic leads.kcat:6 >"$work/kafka.out" 2>"$work/kafka.log" &
pids+=($!)
bootstrap="$(wait_for_line 'bootstrap=' 30 "$work/kafka.out" | cut -d= -f2)"

cat >"$work/ingest.yaml" <<YAML
kafka: {bootstrap_servers: "$bootstrap", group_id: bench-ingest}
redis: {host: 127.0.0.1, port: 6379}
reps: [{id: rep-a}]
ingest:
  http: {listen: "127.0.0.1:0", metrics_listen: "127.0.0.1:0", max_records_per_request: 1000}
sources:
  - {name: native, profile: leadevent, auth: {kind: bearer, secret_env: BENCH_INGEST_TOKEN}}
YAML
BENCH_INGEST_TOKEN=bench-token "$ingest_bin" --config "$work/ingest.yaml" >"$work/ingest.out" 2>"$work/ingest.log" &
pids+=($!)
ingest_pid=$!
http="$(wait_for_line 'leadrouter-ingest ready' 30 "$work/ingest.out" | sed 's/.*http=\([^ ]*\).*/\1/')"
[ -n "$http" ] || fail "leadrouter-ingest did not start: $(cat "$work/ingest.log")"

# One body of R native LeadEvents, posted N times by ab (C, keep-alive: a Python client was the
# bottleneck at ~800 requests/s); kcat -P then produces the same records N times.
python3 - "$records" "$work/body.json" <<'PY'
import json, sys
records, out = int(sys.argv[1]), sys.argv[2]
leads = [json.dumps({"event_id": f"bench-{k}", "occurred_at": "2026-12-01T09:00:00Z",
                     "source_kind": "LEAD_SOURCE_KIND_INBOUND_MARKETING",
                     "person": {"email": f"p{k}@bench.example"},
                     "company": {"name": "Bench Co", "employee_count": 100, "country": "US"}},
                    separators=(",", ":")) for k in range(records)]
with open(out, "w") as fh:
    fh.write("[" + ",".join(leads) + "]")
PY
python3 -c 'import json,sys; body=json.load(open(sys.argv[1])); n=int(sys.argv[2]); out=open(sys.argv[3], "w"); [out.write(json.dumps(r, separators=(",", ":")) + "\n") for _ in range(n) for r in body]' \
  "$work/body.json" "$requests" "$work/records.jsonl"
# CPU seconds (user + system) of the ingest process, from /proc: steadier than wall time here.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$ingest_pid/stat"; }
cpu_before="$(cpu_seconds)"
ab -q -k -n "$requests" -c "$concurrency" -p "$work/body.json" -T application/json \
  -H "Authorization: Bearer bench-token" "http://$http/v1/sources/native" >"$work/ab.txt" 2>&1 ||
  fail "ab failed: $(tail -3 "$work/ab.txt")"
failed="$(awk '/^Failed requests:/ {print $3}' "$work/ab.txt")"
non2xx="$(awk '/^Non-2xx responses:/ {print $3}' "$work/ab.txt")"
[ "${failed:-1}" = 0 ] && [ -z "$non2xx" ] || fail "not every request was answered 200: $(grep -E 'Failed|Non-2xx' "$work/ab.txt")"
http_seconds="$(awk '/^Time taken for tests:/ {print $5}' "$work/ab.txt")"
p99_ms="$(awk '$1 == "99%" {print $2}' "$work/ab.txt")"
cpu_after="$(cpu_seconds)"

kcat_start=$(date +%s.%N)
kcat -P -b "$bootstrap" -t leads.kcat -X acks=all -X enable.idempotence=true -l "$work/records.jsonl"
kcat_seconds=$(python3 -c "import time; print(time.time() - $kcat_start)")

python3 - "$requests" "$records" "$concurrency" "$http_seconds" "$kcat_seconds" "$p99_ms" \
  "$cpu_before" "$cpu_after" <<'PY'
import sys
requests, records, concurrency = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
http_s, kcat_s, p99 = float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
cpu_s = float(sys.argv[8]) - float(sys.argv[7])
total = requests * records
print(f"leadrouter-ingest: {requests} requests x {records} records, {concurrency} connections")
print(f"  ingest   {requests / http_s:10.0f} requests/s  {total / http_s:10.0f} records/s  ({http_s:.2f} s, each 200 after Kafka's ack; p99 {p99} ms)")
print(f"  kcat -P  {'':>10}             {total / kcat_s:10.0f} records/s  ({kcat_s:.2f} s, acks=all, idempotent)")
print(f"  cpu      ingest {1e6 * cpu_s / total:.1f} µs per record, {1e6 * cpu_s / requests:.0f} µs per request (user + system)")
print(f"  ratio    ingest records/s = {100 * (total / http_s) / (total / kcat_s):.1f}% of kcat -P")
PY
