#!/usr/bin/env bash
# The console in a real browser against the demo stack: the embedded Kafka, a redis-server on a
# free port and leadrouter with the example config, API tokens and the console on; then
# browser_test.mjs drives Debian's chromium (playwright-core) through the main views.
# Usage: tests/console/browser_test.sh BUILD_DIR ARTIFACT_DIR
#   BUILD_DIR     the CMake build holding leadrouter, leadctl and leadrouter-kafka-mock
#   ARTIFACT_DIR  where the screenshots (and, on failure, the daemon's log) go
set -euo pipefail
build="$(cd "$1" && pwd)"
mkdir -p "$2"
artifacts="$(cd "$2" && pwd)"
cd "$(dirname "$0")/../.."
root="$(pwd)"
bin="$build/services"

source scripts/lib.sh
lr_workdir console-browser

start_redis
"$bin/kafka-mock/leadrouter-kafka-mock" >"$work/kafka.out" 2>"$work/kafka.log" &
pids+=($!)
bootstrap="$(wait_for_line 'bootstrap=' 30 "$work/kafka.out" | cut -d= -f2)"

admin_token="console-admin-$RANDOM$RANDOM-0123456789"
viewer_token="console-viewer-$RANDOM$RANDOM-0123456789"
cat >"$work/tokens.yaml" <<EOF
tokens:
  - {name: sales-ops, token: $admin_token, scopes: [stream, act, admin]}
  - {name: dashboard, token: $viewer_token, scopes: [stream]}
EOF
example_config_console "$bootstrap" "$redis_port" console-browser "$work/tokens.yaml" \
  >"$work/leadrouter.yaml"
grep -q "tokens_file: $work/tokens.yaml" "$work/leadrouter.yaml"

"$bin/leadrouter/leadrouter" --config "$work/leadrouter.yaml" >"$work/leadrouter.out" 2>"$work/leadrouter.log" &
pids+=($!)
ready="$(wait_for_line 'leadrouter ready' 30 "$work/leadrouter.out")"
grpc="$(sed -E 's/.*grpc=([^ ]+).*/\1/' <<<"$ready")"
console="$(sed -E 's/.*console=([^ ]+).*/\1/' <<<"$ready")"

# An open claim conflict for the Claims view: two reps claim one account (manager_decides).
printf '%s\n' "$admin_token" >"$work/admin.token"
"$bin/leadctl/leadctl" --server "$grpc" --token-file "$work/admin.token" claim rep-ada fabrikam.example >/dev/null
"$bin/leadctl/leadctl" --server "$grpc" --token-file "$work/admin.token" claim rep-linus fabrikam.example \
  --note "met them at the booth" >/dev/null

status=0
CONSOLE_URL="$console" ADMIN_TOKEN="$admin_token" VIEWER_TOKEN="$viewer_token" \
  KAFKA_BOOTSTRAP="$bootstrap" ARTIFACTS="$artifacts" \
  node "$root/tests/console/browser_test.mjs" || status=$?
if [ "$status" -ne 0 ]; then
  cp "$work/leadrouter.log" "$artifacts/leadrouter.log"
  echo "browser test failed; leadrouter's log: $artifacts/leadrouter.log" >&2
fi
exit "$status"
