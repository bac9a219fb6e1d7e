#!/usr/bin/env bash
# The walking demo: embedded Kafka + a local redis-server + leadrouter, sample leads published,
# assignments printed as they stream in over gRPC, dead letters and metrics shown.
# Usage: scripts/demo.sh [--keep-running]
#   --keep-running  leave everything up after the tour (Ctrl-C stops it) to explore /metrics,
#                   publish more leads with kcat, or subscribe with leadctl.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

keep_running=0
[ "${1:-}" = "--keep-running" ] && keep_running=1

scripts/build.sh release --target leadrouter leadctl leadrouter-kafka-mock >/dev/null
bin="$root/build/release/services"

source scripts/lib.sh
lr_workdir demo

echo "== starting redis-server on a free loopback port"
start_redis
echo "   redis at 127.0.0.1:$redis_port"

echo "== starting the embedded Kafka (librdkafka mock cluster)"
"$bin/kafka-mock/leadrouter-kafka-mock" >"$work/kafka.out" 2>"$work/kafka.log" &
pids+=($!)
bootstrap="$(wait_for_line 'bootstrap=' 30 "$work/kafka.out" | cut -d= -f2)"
echo "   kafka at $bootstrap (try: kcat -L -b $bootstrap)"

# The documented example config pointed at this demo's servers, with two API tokens (sales-ops:
# everything; dashboard: watch only) and the sales-ops console on a free port.
admin_token="demo-sales-ops-$RANDOM$RANDOM$RANDOM"
viewer_token="demo-dashboard-$RANDOM$RANDOM$RANDOM"
cat >"$work/tokens.yaml" <<EOF
tokens:
  - {name: sales-ops, token: $admin_token, scopes: [stream, act, admin]}
  - {name: dashboard, token: $viewer_token, scopes: [stream]}
EOF
printf '%s\n' "$admin_token" >"$work/admin.token"
example_config_console "$bootstrap" "$redis_port" leadrouter-demo "$work/tokens.yaml" >"$work/leadrouter.yaml"

echo "== starting leadrouter"
"$bin/leadrouter/leadrouter" --config "$work/leadrouter.yaml" >"$work/leadrouter.out" 2>"$work/leadrouter.log" &
pids+=($!)
ready="$(wait_for_line 'leadrouter ready' 30 "$work/leadrouter.out")"
grpc="$(sed -E 's/.*grpc=([^ ]+).*/\1/' <<<"$ready")"
metrics_url="$(sed -E 's/.*metrics=([^ ]+).*/\1/' <<<"$ready")"
console_url="$(sed -E 's/.*console=([^ ]+).*/\1/' <<<"$ready")"
echo "   $ready"
echo "   console: $console_url  (sign in with the demo token $admin_token)"

echo "== subscribing over gRPC (leadctl subscribe), then publishing deploy/demo/leads.jsonl with kcat"
"$bin/leadctl/leadctl" --server "$grpc" --token-file "$work/admin.token" subscribe >"$work/assignments.txt" 2>&1 &
pids+=($!)
sleep 1
kcat -P -b "$bootstrap" -t leads.inbound -H content-type=application/json <deploy/demo/leads.jsonl
# Wait for every event to reach an outcome: 10 published = 4 assigned + 1 nurture
# + 3 disqualified + 1 replayed + 1 dead letter.
for _ in $(seq 300); do
  consumed="$(http_get "$metrics_url" |
    awk '/^leadrouter_events_consumed_total /{print $2}')"
  [ "${consumed:-0}" = "10" ] && break
  sleep 0.1
done
if [ "${consumed:-0}" != "10" ]; then
  echo "demo: leadrouter consumed ${consumed:-0} of 10 events within 30 s; its log:" >&2
  cat "$work/leadrouter.log" >&2
  exit 1
fi
sleep 0.5

echo
echo "== assignments as they streamed in (leadctl subscribe):"
sed 's/^/   /' "$work/assignments.txt"
echo
echo "== not qualified, handed back to marketing (kcat -C -t leads.nurture):"
kcat -C -b "$bootstrap" -t leads.nurture -e -q -f '%s\n' 2>/dev/null >"$work/nurture.jsonl" || true
while IFS= read -r event; do
  id="$(grep -o '"event_id":"[^"]*"' <<<"$event" | head -1 | cut -d'"' -f4)"
  outcome="$(grep -o '"outcome":"QUALIFICATION_OUTCOME_[A-Z]*"' <<<"$event" | cut -d'"' -f4)"
  score="$(grep -o '"score":[0-9]*' <<<"$event" | cut -d: -f2 || true)"  # absent when 0
  reasons="$(grep -o '"reasons":\[[^]]*\]' <<<"$event" | sed 's/\\u003c/</g; s/\\u003e/>/g')"
  echo "   $id  ${outcome#QUALIFICATION_OUTCOME_}  score ${score:-0}  $reasons"
done <"$work/nurture.jsonl"
echo
echo "== dead letters (kcat -C -t leads.deadletter), reason in the headers:"
kcat -C -b "$bootstrap" -t leads.deadletter -e -q -f '%h\n%s\n' 2>/dev/null | sed 's/^/   /'
echo
echo "== metrics ($metrics_url):"
http_get "$metrics_url" |
  grep -E '^leadrouter_(events_consumed_total|events_outcome_total|leads_assigned_total|events_deadlettered_total|leads_failed_requirement_total)' |
  sed 's/^/   /'
echo
echo "The re-published demo-0001 was answered from Redis (outcome=\"replayed\"): same rep, no second assignment."

if [ "$keep_running" = 1 ]; then
  echo
  echo "Running. Console: $console_url   Metrics: $metrics_url   gRPC: $grpc   Kafka: $bootstrap   Redis: 127.0.0.1:$redis_port"
  echo "  console tokens: $admin_token (sales-ops: every view and action)"
  echo "                  $viewer_token (dashboard: watch only)"
  echo "  publish:   kcat -P -b $bootstrap -t leads.inbound -H content-type=application/json <file.jsonl>"
  echo "  subscribe: $bin/leadctl/leadctl --server $grpc --token-file $work/admin.token subscribe"
  echo "Ctrl-C to stop."
  wait
fi
