# Shared by scripts/demo.sh and scripts/bench.sh (source it from the repo root): a work directory
# whose processes die with the script, waiting for a line of output, an HTTP GET in bash alone,
# a redis-server on a free loopback port, and the example config pointed at a run's servers.

# lr_workdir NAME: sets $work (a fresh temp dir) and $pids (processes killed on exit).
lr_workdir() {
  work="$(mktemp -d -t "leadrouter-$1.XXXXXX")"
  pids=()
  trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
  trap 'exit 130' INT TERM
}

# wait_for_line PATTERN SECONDS FILE: prints the first line of FILE matching PATTERN, waiting up
# to SECONDS for it; on time-out prints FILE to stderr and fails.
wait_for_line() {
  local pattern="$1" seconds="$2" file="$3"
  for _ in $(seq $((seconds * 10))); do
    if grep -m1 -- "$pattern" "$file" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for '$pattern' in $file:" >&2
  cat "$file" >&2
  return 1
}

# http_get URL: the body of GET http://HOST:PORT/PATH (no curl needed).
http_get() {
  local rest="${1#http://}"
  local hostport="${rest%%/*}" path="/${rest#*/}"
  exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}"
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "${hostport%:*}" >&3
  sed '1,/^\r$/d' <&3
  exec 3<&-
}

# start_redis: a redis-server without persistence on a free loopback port; sets $redis_port and
# $redis_pid (added to $pids). Fails with its log when no port worked.
start_redis() {
  redis_pid=""
  for _ in $(seq 20); do
    redis_port=$((20000 + RANDOM % 30000))
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
      >"$work/redis.log" 2>&1 &
    redis_pid=$!
    sleep 0.3
    if kill -0 "$redis_pid" 2>/dev/null && redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
      pids+=("$redis_pid")
      return 0
    fi
    redis_pid=""
  done
  echo "could not start redis-server:" >&2
  cat "$work/redis.log" >&2
  return 1
}

# The example config reads its dedupe HMAC key from LEADROUTER_DEDUPE_KEY. A demo or benchmark
# run gets a throw-away key unless the caller brought one; a deployment sets its own secret.
export LEADROUTER_DEDUPE_KEY="${LEADROUTER_DEDUPE_KEY:-demo-only-dedupe-key-$RANDOM$RANDOM}"
# Its hubspot_webhook source fetches contacts with HUBSPOT_PRIVATE_APP_TOKEN: a demo sends no
# HubSpot events, so a placeholder lets the daemon start.
export HUBSPOT_PRIVATE_APP_TOKEN="${HUBSPOT_PRIVATE_APP_TOKEN:-demo-only-not-a-hubspot-token}"

# example_config BOOTSTRAP REDIS_PORT GROUP [SED_ARGS...]: deploy/config/leadrouter.example.yaml
# pointed at these servers (free ports for gRPC and metrics, 20 ms batches, the embedded broker's
# short session timeout, and a 5 ms fetch wait: the embedded broker answers a fetch that finds no
# data only after the full fetch.wait.max.ms, never woken by new data as a Kafka broker is, so the
# default 500 ms would add up to half a second to every lead) on stdout; SED_ARGS add further edits. Fails if an edit did not apply,
# so a change to the example cannot silently run against the wrong servers.
example_config() {
  local bootstrap="$1" port="$2" group="$3"
  shift 3
  local out
  out="$(sed -e "s|bootstrap_servers: .*|bootstrap_servers: $bootstrap|" \
    -e "s|group_id: leadrouter |group_id: $group |" \
    -e "s|batch_max_wait_ms: 50 |batch_max_wait_ms: 20 |" \
    -e "s|consumer_properties: {}|consumer_properties: {session.timeout.ms: \"6000\", fetch.wait.max.ms: \"5\"}|" \
    -e "s|^  port: 6379|  port: $port|" \
    -e "s|listen: 127.0.0.1:50051|listen: \"127.0.0.1:0\"|" \
    -e "s|listen: 127.0.0.1:9464|listen: \"127.0.0.1:0\"|" \
    "$@" deploy/config/leadrouter.example.yaml)"
  for expected in "bootstrap_servers: $bootstrap" "group_id: $group " "  port: $port" \
    'listen: "127.0.0.1:0"'; do
    grep -qF -- "$expected" <<<"$out" || {
      echo "example_config: '$expected' not applied; did deploy/config/leadrouter.example.yaml change?" >&2
      return 1
    }
  done
  printf '%s\n' "$out"
}

# example_config_console BOOTSTRAP REDIS_PORT GROUP TOKENS_FILE: example_config with grpc.auth
# reading TOKENS_FILE and the sales-ops console on a free loopback port (printed on the ready line
# as console=URL).
example_config_console() {
  local tokens="$4"
  local out
  out="$(example_config "$1" "$2" "$3" \
    -e "s|^  subscriber_queue_limit: \(.*\)|  subscriber_queue_limit: \1\n  auth: {tokens_file: $tokens}|" \
    -e 's|^  listen: ""  *# e.g. 127.0.0.1:8080|  listen: "127.0.0.1:0"  # e.g. 127.0.0.1:8080|')" || return 1
  for expected in "auth: {tokens_file: $tokens}" '  listen: "127.0.0.1:0"  # e.g. 127.0.0.1:8080'; do
    grep -qF -- "$expected" <<<"$out" || {
      echo "example_config_console: '$expected' not applied; did the example config change?" >&2
      return 1
    }
  done
  printf '%s\n' "$out"
}
