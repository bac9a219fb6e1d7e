#!/usr/bin/env bash
# leadrouter-ingest throughput against kcat -P of the same records, in the same run (the machine
# is shared and noisy: compare the ratio, not absolute numbers). The embedded Kafka, one
# leadrouter-ingest, a Python HTTP client with C keep-alive connections posting R native LeadEvents
# per request (each acknowledged by Kafka before its 200), then kcat -P of the same records.
# Usage: scripts/bench-ingest.sh [--requests N] [--records R] [--concurrency C] [--build-dir DIR]
#   defaults: 2000 requests of 10 records, 8 connections, build/release (built first)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
requests=2000
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
command -v kcat >/dev/null || { echo "bench-ingest: kcat not installed (scripts/bootstrap.sh)" >&2; exit 1; }

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
http="$(wait_for_line 'leadrouter-ingest ready' 30 "$work/ingest.out" | sed 's/.*http=\([^ ]*\).*/\1/')"
[ -n "$http" ] || fail "leadrouter-ingest did not start: $(cat "$work/ingest.log")"

python3 - "$http" "$requests" "$records" "$concurrency" "$work/records.jsonl" >"$work/http.json" <<'PY'
import http.client, json, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
requests, records, concurrency, out = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def lead(i):
    return json.dumps({"event_id": f"bench-{i}", "occurred_at": "2026-12-01T09:00:00Z",
                       "source_kind": "LEAD_SOURCE_KIND_INBOUND_MARKETING",
                       "person": {"email": f"p{i}@bench.example"},
                       "company": {"name": "Bench Co", "employee_count": 100, "country": "US"}},
                      separators=(",", ":"))
bodies = ["[" + ",".join(lead(r * records + k) for k in range(records)) + "]" for r in range(requests)]
with open(out, "w") as fh:
    for r in range(requests * records):
        fh.write(lead(r) + "\n")
headers = {"Content-Type": "application/json", "Authorization": "Bearer bench-token"}
errors, lock, next_i = [0], threading.Lock(), [0]
def worker():
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    while True:
        with lock:
            i = next_i[0]; next_i[0] += 1
        if i >= requests:
            return
        try:
            conn.request("POST", "/v1/sources/native", bodies[i], headers)
            resp = conn.getresponse(); resp.read()
            ok = resp.status == 200
            if resp.getheader("Connection", "").lower() == "close":
                conn.close(); conn = http.client.HTTPConnection(host, int(port), timeout=30)
        except Exception:
            ok = False
            conn.close(); conn = http.client.HTTPConnection(host, int(port), timeout=30)
        if not ok:
            with lock: errors[0] += 1
start = time.monotonic()
threads = [threading.Thread(target=worker) for _ in range(concurrency)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.monotonic() - start
print(json.dumps({"seconds": elapsed, "errors": errors[0]}))
PY
read -r http_seconds http_errors < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["seconds"], d["errors"])' "$work/http.json")
[ "$http_errors" = 0 ] || fail "$http_errors requests were not answered 200"

kcat_start=$(date +%s.%N)
kcat -P -b "$bootstrap" -t leads.kcat -X acks=all -X enable.idempotence=true -l "$work/records.jsonl"
kcat_seconds=$(python3 -c "import time; print(time.time() - $kcat_start)")

python3 - "$requests" "$records" "$concurrency" "$http_seconds" "$kcat_seconds" <<'PY'
import sys
requests, records, concurrency = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
http_s, kcat_s = float(sys.argv[4]), float(sys.argv[5])
total = requests * records
print(f"leadrouter-ingest: {requests} requests x {records} records, {concurrency} connections")
print(f"  ingest   {requests / http_s:10.0f} requests/s  {total / http_s:10.0f} records/s  ({http_s:.2f} s, each 200 after Kafka's ack)")
print(f"  kcat -P  {'':>10}             {total / kcat_s:10.0f} records/s  ({kcat_s:.2f} s, acks=all, idempotent)")
print(f"  ratio    ingest records/s = {100 * (total / http_s) / (total / kcat_s):.1f}% of kcat -P")
PY
