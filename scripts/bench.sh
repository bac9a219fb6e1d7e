#!/usr/bin/env bash
# Benchmarks, measured against the raw ceilings of Kafka and Redis in the same run (the machine is
# shared and noisy: compare ratios, not absolute numbers). In one run:
#   routing stage   redis-benchmark ceilings + routing_bench (the Assigner against this Redis)
#   end to end      (a) N leads loaded into leads.inbound by leadgen; kcat's consume ceiling
#                   (b) the pipelined EVALSHA ceiling (above)
#                   (c) leadrouter draining the topic until every lead has an outcome: leads/s
#                   (d) latency at a fixed offered load (leadgen --rate 2000), from the histogram,
#                       and the broker's own: kcat reading a topic leadgen writes at that rate
#                   (e) the daemon's peak RSS, Redis used_memory per stored lead
#                   then the same drain with two instances in one consumer group (scaling)
# Prints the tables, writes bench-result.json and (not with --quick) BENCHMARKS.md.
# Usage: scripts/bench.sh [--quick] [--n N] [--build-dir DIR]
#   --quick          N=5000, short runs, no BENCHMARKS.md (the ctest smoke run)
#   --n N            leads loaded for (a) and (c) (default 200000)
#   --build-dir DIR  binaries from DIR (default build/release, built first; other dirs are used
#                    as they are, e.g. the ctest smoke run on the dev build)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

quick=0
n=""
build_dir="build/release"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --n) n="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    *) echo "usage: scripts/bench.sh [--quick] [--n N] [--build-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
build_dir="$(realpath -m "$build_dir")"
if [ "$build_dir" = "$root/build/release" ]; then
  scripts/build.sh release --target routing_bench decode_bench leadgen leadrouter \
    leadrouter-kafka-mock >/dev/null
fi
leadrouter_bin="$build_dir/services/leadrouter/leadrouter"
kafka_mock_bin="$build_dir/services/kafka-mock/leadrouter-kafka-mock"
leadgen_bin="$build_dir/tests/bench/leadgen"
routing_bench_bin="$build_dir/tests/bench/routing_bench"
decode_bench_bin="$build_dir/tests/bench/decode_bench"
for b in "$leadrouter_bin" "$kafka_mock_bin" "$leadgen_bin" "$routing_bench_bin" "$decode_bench_bin"; do
  [ -x "$b" ] || { echo "bench: $b is missing (build it first)" >&2; exit 1; }
done

min_time=2
latency_seconds=20
rate=2000
if [ "$quick" = 1 ]; then min_time=0.05; latency_seconds=2; fi
[ -n "$n" ] || { if [ "$quick" = 1 ]; then n=5000; else n=200000; fi; }

source scripts/lib.sh
lr_workdir bench

now() { date +%s.%N; }
fail() { echo "bench: $*" >&2; exit 1; }
# --- servers -------------------------------------------------------------------------------------
start_redis || fail "could not start redis-server"
port="$redis_port"

# 32 partitions: the embedded broker keeps only ~5 MiB per partition. leads.inbound2 is the fresh
# topic of the two-instance run.
"$kafka_mock_bin" --topic leads.inbound:32 --topic leads.inbound2:32 --topic leads.rawlatency:32 \
  --topic leads.assignments:32 --topic leads.nurture:32 --topic leads.deadletter:32 \
  >"$work/kafka.out" 2>"$work/kafka.log" &
pids+=($!)
bootstrap="$(wait_for_line 'bootstrap=' 30 "$work/kafka.out" | cut -d= -f2)"

# --- routing stage (and (b): the raw Redis ceilings) ---------------------------------------------
sha="$(redis-cli -p "$port" script load "return 1")"
rtt="$(redis-benchmark -p "$port" -n "$n" -c 1 -q PING 2>/dev/null | grep -o '[0-9.]* requests per second' | cut -d' ' -f1 | tail -1)"
evalsha="$(redis-benchmark -p "$port" -n "$n" -c 1 -P 64 -q EVALSHA "$sha" 0 2>/dev/null | grep -o '[0-9.]* requests per second' | cut -d' ' -f1 | tail -1)"

LEADROUTER_BENCH_REDIS_PORT="$port" "$routing_bench_bin" \
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
identity="$(items BM_DedupeIdentity)"
phone_two="$(items 'BM_PhoneKey/0')"
phone_one="$(items 'BM_PhoneKey/1')"
d1off="$(items 'BM_AssignerDedupe/1/0/real_time')"
d1on="$(items 'BM_AssignerDedupe/1/1/real_time')"
d500off="$(items 'BM_AssignerDedupe/500/0/real_time')"
d500on="$(items 'BM_AssignerDedupe/500/1/real_time')"
# The decode stage: the native LeadEvent contract against a mapped source (the same people as
# HubSpot workflow bodies through the shipped hubspot_workflow profile).
"$decode_bench_bin" --benchmark_filter='BM_DecodeLeadEvent|BM_MapHubspotWorkflow' \
  --benchmark_min_time="$min_time" --benchmark_format=json --benchmark_out="$work/decode.json" \
  --benchmark_out_format=json >/dev/null
decode_items() {
  grep -A30 "\"name\": \"$1\"" "$work/decode.json" | grep -m1 '"items_per_second"' |
    sed -E 's/.*: ([0-9.e+]+).*/\1/'
}
native="$(decode_items BM_DecodeLeadEvent)"
mapped="$(decode_items BM_MapHubspotWorkflow)"
for v in "$rtt" "$evalsha" "$route" "$b1" "$b50" "$b500" "$identity" "$phone_two" "$phone_one" "$d1off" "$d1on" "$d500off" "$d500on" "$native" "$mapped"; do
  [ -n "$v" ] || { echo "bench: a measurement is missing" >&2; cat "$work/routing.json" >&2; exit 1; }
done
fmt() { awk -v v="$1" 'BEGIN { printf "%\047.0f", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

routing_table="$(cat <<TABLE
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
dedupe_table="$(cat <<TABLE
| measurement (lead mix: 1 in 5 a person seen before, 997 accounts) | per second | ratio |
| --- | ---: | --- |
| dedupe identity alone: normalize e-mail, phone, domain, company name + 4 HMACs (pure; 64 leads cycled, so everything but the e-mail comes from the normalizers' caches) | $(fmt "$identity") | |
| phone key of numbers seen once (leadgen-like, most in no assigned range): NormalizePhone, then PhoneFallbackKey, each parsing | $(fmt "$phone_two") | 1 |
| the same with PhoneKeyForMatching (one parse shared; what dedupe calls) | $(fmt "$phone_one") | $(ratio "$phone_one" "$phone_two") x |
| Assigner, batch of 1 (unpipelined), dedupe off: leads | $(fmt "$d1off") | $(ratio "$d1off" "$rtt") x round trips/s |
| Assigner, batch of 1 (unpipelined), dedupe on: leads | $(fmt "$d1on") | $(ratio "$d1on" "$d1off") x dedupe off |
| Assigner, batch of 500 (pipelined), dedupe off: leads | $(fmt "$d500off") | |
| Assigner, batch of 500 (pipelined), dedupe on: leads | $(fmt "$d500on") | $(ratio "$d500on" "$d500off") x dedupe off, $(ratio "$d500on" "$d1on") x unpipelined |
TABLE
)"
decode_table="$(cat <<TABLE
| measurement (one thread) | per second | ratio |
| --- | ---: | --- |
| native \`LeadEvent\` JSON: \`lead::DecodeLeadEvent\` (leadgen's events) | $(fmt "$native") | 1 |
| mapped source: the same people as HubSpot workflow bodies, \`hubspot_workflow\` profile (\`sources::Mapping::Map\`) | $(fmt "$mapped") | $(ratio "$mapped" "$native") x native |
TABLE
)"
echo "$routing_table"
echo
echo "$dedupe_table"
echo
echo "$decode_table"
echo
# The end-to-end part starts from an empty Redis (routing_bench leaves its keys behind).
redis-cli -p "$port" flushall >/dev/null

# --- (a) load N leads, then the raw consume ceiling ----------------------------------------------
echo "bench: loading $n leads into leads.inbound" >&2
"$leadgen_bin" --seed 1 --count "$n" --bootstrap "$bootstrap" --topic leads.inbound \
  2>"$work/leadgen-load.log" || { cat "$work/leadgen-load.log" >&2; fail "leadgen failed"; }
load_summary="$(tail -1 "$work/leadgen-load.log")"
echo "$load_summary" >&2
t0="$(now)"
kcat_count="$(kcat -C -b "$bootstrap" -t leads.inbound -o beginning -e -q -f '\n' | wc -l)"
t1="$(now)"
[ "$kcat_count" = "$n" ] || fail "kcat consumed $kcat_count of $n loaded leads"
kafka_ceiling="$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')"

# --- leadrouter ----------------------------------------------------------------------------------
# The example config pointed at this run's servers; $1 = instance name, $2 = group, $3 = topic.
# Its reps' daily caps (40) and open-lead caps (200) are lifted: with them nearly every qualified
# lead of a bench run would be "unassigned" and the latency histogram (assignments only) empty.
start_leadrouter() {
  example_config "$bootstrap" "$port" "$2" \
    -e "s|inbound: leads.inbound |inbound: $3 |" \
    -e "s|daily_cap: 40 |daily_cap: 0 |" \
    -e "s|max_open_leads: 200 |max_open_leads: 0 |" >"$work/$1.yaml" ||
    fail "the example config changed; update start_leadrouter"
  grep -q "inbound: $3 " "$work/$1.yaml" || fail "the example config's topics changed; update start_leadrouter"
  "$leadrouter_bin" --config "$work/$1.yaml" >"$work/$1.out" 2>"$work/$1.log" &
  pids+=($!)
  last_pid=$!
  local ready
  ready="$(wait_for_line 'leadrouter ready' 60 "$work/$1.out")" || fail "leadrouter did not start"
  last_metrics="$(sed -E 's/.*metrics=([^ ]+).*/\1/' <<<"$ready")"
}
metrics() { http_get "$1"; }
# "consumed outcomes_sum" summed over the metrics URLs given. Polled every 50 ms, so only the two
# families are asked for: rendering the whole registry (~7,000 series with the example config's
# pre-created lead series) 20 times a second cost the daemon a third of its CPU in the drain.
counts() {
  local url
  for url in "$@"; do
    metrics "$url?name=leadrouter_events_consumed_total&name=leadrouter_events_outcome_total"
  done |
    awk '/^leadrouter_events_consumed_total /{c += $2} /^leadrouter_events_outcome_total\{/{o += $2}
         END { printf "%.0f %.0f\n", c, o }'
}
# Polls until consumed and the outcome sum both reach $1 (timeout $2 s; then metrics URLs).
# Sets drain_first (time the first new event was seen consumed), drain_first_count, drain_done.
wait_drained() {
  local target="$1" timeout="$2" base
  shift 2
  read -r base _ <<<"$(counts "$@")"
  drain_first=""
  drain_first_count=0
  local deadline c o
  deadline=$(($(date +%s) + timeout))
  while :; do
    read -r c o <<<"$(counts "$@")"
    if [ -z "$drain_first" ] && [ "$c" -gt "$base" ]; then drain_first="$(now)"; drain_first_count="$c"; fi
    if [ "$c" -ge "$target" ] && [ "$o" -ge "$target" ]; then drain_done="$(now)"; break; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "bench: run invalid: after ${timeout}s leadrouter consumed $c and reached $o outcomes, expected $target of each" >&2
      for url in "$@"; do metrics "$url" | grep -E '^leadrouter_events_(consumed|outcome)' >&2; done
      tail -20 "$work"/lr*.log >&2
      exit 1
    fi
    sleep 0.05
  done
  # A rebalance redelivers uncommitted batches (at least once): allowed only where the caller says.
  if [ "${allow_redelivery:-0}" = 0 ]; then
    [ "$c" -eq "$target" ] && [ "$o" -eq "$target" ] ||
      fail "run invalid: consumed $c, outcomes $o, expected exactly $target"
  fi
}
drain_timeout=$((60 + n / 500))
# CPU seconds (utime + stime) a process has used so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# A counter's value (summed over its series) at the metrics URLs given.
counter_sum() {
  local name="$1" url
  shift
  for url in "$@"; do metrics "$url?name=$name"; done |
    awk -v n="$name" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%.0f", s }'
}
# Batches decided (one decode stage observation each) at the metrics URLs given.
batches_of() {
  local url
  for url in "$@"; do metrics "$url?name=leadrouter_stage_seconds"; done |
    awk '/^leadrouter_stage_seconds_count\{stage="decode"\}/ { s += $NF } END { printf "%.0f", s }'
}

# --- (c) end-to-end drain ------------------------------------------------------------------------
mem_before="$(redis-cli -p "$port" info memory | awk -F: '/^used_memory:/{print $2+0}')"
# Microseconds Redis spent executing scripts (the commit and the lifecycle scripts) so far.
evalsha_usec() { redis-cli -p "$port" info commandstats | awk -F'[=,:]' '/^cmdstat_evalsha:/{print $5+0}'; }
script_usec_before="$(evalsha_usec)"
t_start="$(now)"
start_leadrouter lr1 "leadrouter-bench-$$" leads.inbound
lr_pid="$last_pid"
lr_metrics="$last_metrics"
t_ready="$(now)"
cpu_ready="$(cpu_of "$lr_pid")"
wait_drained "$n" "$drain_timeout" "$lr_metrics"
cpu_drained="$(cpu_of "$lr_pid")"
# From the first consumed event seen (polled every 50 ms) to the last outcome: the group join is
# not counted; the events consumed before the first poll saw them are left out of the count too.
leads_per_s="$(awk -v n="$n" -v f="$drain_first_count" -v a="$drain_first" -v b="$drain_done" \
  'BEGIN { printf "%.0f", (n - f) / (b - a) }')"
leads_per_s_from_ready="$(awk -v n="$n" -v a="$t_ready" -v b="$drain_done" 'BEGIN { printf "%.0f", n / (b - a) }')"
startup_s="$(awk -v a="$t_start" -v b="$t_ready" 'BEGIN { printf "%.2f", b - a }')"
# CPU the daemon used from its start to the end of the drain (utime + stime), per wall second.
# Redis is single-threaded: its time in the commit script per lead bounds what one Redis can take.
script_us_per_lead="$(awk -v a="$script_usec_before" -v b="$(evalsha_usec)" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')"
script_ceiling="$(awk -v u="$script_us_per_lead" 'BEGIN { printf "%.0f", (u > 0 ? 1e6 / u : 0) }')"
daemon_cpu_s="$(awk -v c="$cpu_drained" 'BEGIN { printf "%.1f", c }')"
# Per lead: from the ready line to drained (start-up, config and data loading, not counted).
daemon_cpu_us_per_lead="$(awk -v a="$cpu_ready" -v b="$cpu_drained" -v n="$n" 'BEGIN { printf "%.1f", 1e6 * (b - a) / n }')"
daemon_cpu_util="$(awk -v c="$daemon_cpu_s" -v a="$t_start" -v b="$drain_done" 'BEGIN { printf "%.2f", c / (b - a) }')"
outcomes="$(metrics "$lr_metrics" | awk -F'[{}" ]+' '/^leadrouter_events_outcome_total\{/{
  for (i = 1; i < NF; i++) if ($i == "outcome=") o = $(i + 1); printf "%s%s=%.0f", sep, o, $NF; sep = " " }')"
echo "bench: outcomes after (c): $outcomes" >&2
# Where the drain's batches spent their time: leadrouter_stage_seconds (sum and count per stage),
# the daemon's own profile of the batch cycle.
stage_rows="$(metrics "$lr_metrics" | awk -F'[{}" ]+' '
  /^leadrouter_stage_seconds_(sum|count)\{/ {
    for (i = 1; i < NF; i++) if ($i == "stage=") s = $(i + 1)
    if ($1 ~ /_sum$/) sum[s] = $NF; else cnt[s] = $NF }
  END { for (s in sum) if (cnt[s] > 0) printf "%s %.6f %d\n", s, sum[s], cnt[s] }' | sort -k2 -gr)"
# "publish" runs on the publisher thread while the loop prepares the next batch ("publish_wait" is
# what the loop waited for it), so it is not part of the loop's batch time.
stage_total="$(awk '$1 != "publish" { t += $2 } END { printf "%.6f", t }' <<<"$stage_rows")"
batches="$(awk '$1 == "decode" { print $3 }' <<<"$stage_rows")"
stage_table="$(awk -v t="$stage_total" -v n="$n" -v b="${batches:-0}" '
  BEGIN { print "| stage | ms per batch | share of the batch time |"; print "| --- | ---: | ---: |" }
  $1 == "publish" { printf "| %s | %.2f | (overlaps the next batch) |\n", $1, 1000 * $2 / $3; next }
  { printf "| %s | %.2f | %.0f%% |\n", $1, 1000 * $2 / $3, (t > 0 ? 100 * $2 / t : 0) }
  END { if (b > 0) printf "\n%d batches, %.0f events per batch on average.\n", b, n / b }' <<<"$stage_rows")"
top_stage="$(awk '$1 != "publish" { print $1; exit }' <<<"$stage_rows")"
top_share="$(awk -v t="$stage_total" '$1 != "publish" { printf "%.0f", (t > 0 ? 100 * $2 / t : 0); exit }' <<<"$stage_rows")"
echo "$stage_table"

# --- (e) Redis memory per stored lead (before the latency run adds more) -------------------------
mem_after="$(redis-cli -p "$port" info memory | awk -F: '/^used_memory:/{print $2+0}')"
event_keys="$(redis-cli -p "$port" --scan --pattern 'lr:{default}:event:*' | wc -l)"
[ "$event_keys" -gt 0 ] || fail "no lr:{default}:event:* records in Redis after the drain"
redis_keys="$(redis-cli -p "$port" dbsize)"
redis_bytes_per_lead="$(awk -v a="$mem_before" -v b="$mem_after" -v k="$event_keys" 'BEGIN { printf "%.0f", (b - a) / k }')"
# The shared stream log is capped (lifecycle.stream_retention_events entries, whatever the number
# of leads), so at scale it is a fixed cost, not a per-lead one: reported apart.
log_bytes="$(redis-cli -p "$port" memory usage 'lr:{default}:log' samples 0 | awk '{ print $1 + 0 }')"
log_entries="$(redis-cli -p "$port" xlen 'lr:{default}:log' | awk '{ print $1 + 0 }')"
redis_bytes_per_lead_without_log="$(awk -v a="$mem_before" -v b="$mem_after" -v l="$log_bytes" -v k="$event_keys" 'BEGIN { printf "%.0f", (b - a - l) / k }')"

# --- (d) latency at a fixed offered load ---------------------------------------------------------
hist() {  # "le count" lines of histogram $2 (a family name) at metrics URL $1
  metrics "$1?name=$2" | awk -v family="$2" -F'[{}" ]+' '$1 == family "_bucket" {
    for (i = 1; i < NF; i++) if ($i == "le=") le = $(i + 1); printf "%s %.0f\n", le, $NF }'
}
hist "$lr_metrics" leadrouter_lead_to_assignment_seconds >"$work/hist.before"
hist "$lr_metrics" leadrouter_lead_to_kafka_seconds >"$work/kafka-hist.before"
latency_count=$((rate * latency_seconds))
"$leadgen_bin" --seed 2 --count "$latency_count" --rate "$rate" --bootstrap "$bootstrap" \
  --topic leads.inbound 2>"$work/leadgen-rate.log" || { cat "$work/leadgen-rate.log" >&2; fail "leadgen --rate failed"; }
rate_summary="$(tail -1 "$work/leadgen-rate.log")"
echo "$rate_summary" >&2
offered="$(awk -v c="$latency_count" '/seconds=/{ for (i = 1; i <= NF; i++) if ($i ~ /^seconds=/) { split($i, a, "="); printf "%.0f", c / a[2] } }' <<<"$rate_summary")"
wait_drained $((n + latency_count)) 120 "$lr_metrics"
hist "$lr_metrics" leadrouter_lead_to_assignment_seconds >"$work/hist.after"
hist "$lr_metrics" leadrouter_lead_to_kafka_seconds >"$work/kafka-hist.after"
# Quantiles of the interval's histogram ($1 before, $2 after), linear inside a bucket: resolution
# is the bucket bounds (1, 2.5, 5, 7.5, 10, 15, 20, 30, 40, 50 ms ...). Beyond the last finite
# bound prints ">bound".
interval_quantiles() {
  paste "$1" "$2" | awk '
  { le[NR] = $1; c[NR] = $4 - $2 } END {
    total = c[NR]; if (total <= 0) { print "na na na 0"; exit }
    split("0.5 0.99 0.999", qs, " ")
    for (k = 1; k <= 3; k++) {
      target = qs[k] * total; lo = 0; prev = 0; v = ""
      for (i = 1; i <= NR; i++) {
        if (c[i] >= target) {
          if (le[i] == "+Inf") { v = sprintf(">%g", lo * 1000); break }
          v = sprintf("%.2f", (lo + (le[i] - lo) * (target - prev) / (c[i] - prev)) * 1000); break
        }
        lo = le[i]; prev = c[i]
      }
      printf "%s ", v
    }
    printf "%d\n", total }'
}
read -r p50 p99 p999 latency_observed <<<"$(interval_quantiles "$work/hist.before" "$work/hist.after")"
read -r kafka_p50 kafka_p99 kafka_p999 kafka_observed \
  <<<"$(interval_quantiles "$work/kafka-hist.before" "$work/kafka-hist.after")"
rss_kb="$(awk '/^VmHWM:/{print $2}' "/proc/$lr_pid/status")"
rss_mb="$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
rss_leads=$((n + latency_count))

# --- (e) RSS after 1,000,000 leads: the same daemon, more rounds on the same topic ---------------
# The embedded broker keeps ~5 MiB per partition (~300,000 of leadgen's events over 32
# partitions), so the rest comes in rounds of at most 200,000 fresh events, each drained first.
rss_mb_after_1m=null
if [ "$quick" = 0 ]; then
  total=$rss_leads
  round=0
  while [ "$total" -lt 1000000 ]; do
    round=$((round + 1))
    count=$((1000000 - total))
    [ "$count" -le 200000 ] || count=200000
    echo "bench: RSS round $round: $count more leads ($total so far)" >&2
    "$leadgen_bin" --seed $((100 + round)) --count "$count" --bootstrap "$bootstrap" \
      --topic leads.inbound 2>"$work/leadgen-round.log" || { cat "$work/leadgen-round.log" >&2; fail "leadgen failed"; }
    total=$((total + count))
    wait_drained "$total" $((60 + count / 500)) "$lr_metrics"
  done
  rss_leads=$total
  rss_mb_after_1m="$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$lr_pid/status")"
  rss_now_mb_after_1m="$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$lr_pid/status")"
fi
kill "$lr_pid" 2>/dev/null || true
wait "$lr_pid" 2>/dev/null || true

# --- (d) the broker's own latency at the same offered load: leadgen -> broker -> kcat ------------
# Each message's age when kcat prints it (its CreateTime is stamped when leadgen produces it, as
# occurred_at is): the floor under (d), which adds a consume, the work and a produce + ack. It
# fetches as the daemon's config does (fetch.wait.max.ms 5: the embedded broker holds an empty
# fetch for the whole wait, never woken by new data).
kcat -C -b "$bootstrap" -t leads.rawlatency -o end -u -X fetch.wait.max.ms=5 -f '%T\n' 2>/dev/null | python3 -c '
import sys, time
ages = []
for line in sys.stdin:
    now = time.time() * 1000
    try:
        ages.append(now - float(line))
    except ValueError:
        pass
ages.sort()
n = len(ages)
q = lambda f: ages[min(n - 1, int(f * n))] if n else float("nan")
print("%.2f %.2f %.2f %d" % (q(0.5), q(0.99), q(0.999), n))
' >"$work/rawlatency.txt" &
raw_pid=$!
sleep 2  # kcat joined and at the end of the topic
"$leadgen_bin" --seed 2 --count "$latency_count" --rate "$rate" --bootstrap "$bootstrap" \
  --topic leads.rawlatency 2>"$work/leadgen-raw.log" || { cat "$work/leadgen-raw.log" >&2; fail "leadgen --rate (raw) failed"; }
sleep 2
pkill -f "kcat -C -b $bootstrap -t leads.rawlatency" 2>/dev/null || true
wait "$raw_pid" 2>/dev/null || true
read -r raw_p50 raw_p99 raw_p999 raw_observed <"$work/rawlatency.txt" || true
[ "${raw_observed:-0}" -gt 0 ] || fail "kcat saw none of the raw latency run's messages"

# --- scaling: two instances in one group, on a fresh topic ---------------------------------------
"$leadgen_bin" --seed 3 --count "$n" --bootstrap "$bootstrap" --topic leads.inbound2 \
  2>"$work/leadgen-load2.log" || { cat "$work/leadgen-load2.log" >&2; fail "leadgen failed"; }
start_leadrouter lr2a "leadrouter-bench2-$$" leads.inbound2
m2a="$last_metrics"
pid2a="$last_pid"
start_leadrouter lr2b "leadrouter-bench2-$$" leads.inbound2
m2b="$last_metrics"
pid2b="$last_pid"
cpu2_ready="$(awk -v a="$(cpu_of "$pid2a")" -v b="$(cpu_of "$pid2b")" 'BEGIN { print a + b }')"
allow_redelivery=1 wait_drained "$n" "$drain_timeout" "$m2a" "$m2b"
cpu2_drained="$(awk -v a="$(cpu_of "$pid2a")" -v b="$(cpu_of "$pid2b")" 'BEGIN { print a + b }')"
# Both daemons' CPU per lead of the topic (redeliveries after the rebalance included: work the
# second instance causes) against the single instance's.
two_cpu_us_per_lead="$(awk -v a="$cpu2_ready" -v b="$cpu2_drained" -v n="$n" 'BEGIN { printf "%.1f", 1e6 * (b - a) / n }')"
two_instance_cpu_ratio="$(ratio "$two_cpu_us_per_lead" "$daemon_cpu_us_per_lead")"
# Batches decided again because the other instance (or anything else) committed first.
batches2="$(batches_of "$m2a" "$m2b")"
conflicted2="$(counter_sum leadrouter_conflicted_batches_total "$m2a" "$m2b")"
refusals2="$(counter_sum leadrouter_commit_conflicts_total "$m2a" "$m2b")"
two_instance_conflict_rate="$(awk -v c="$conflicted2" -v b="$batches2" 'BEGIN { printf "%.3f", (b > 0 ? c / b : 0) }')"
leads_per_s_2="$(awk -v n="$n" -v f="$drain_first_count" -v a="$drain_first" -v b="$drain_done" \
  'BEGIN { printf "%.0f", (n - f) / (b - a) }')"
sleep 1  # the redeliveries of the group's rebalance show up as consumed beyond n
split2="$(for m in "$m2a" "$m2b"; do counts "$m" | cut -d' ' -f1; done | paste -sd/)"
split2="$split2 of $n loaded; more = redelivered"

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", 100 * a / b }'; }
rss_1m_row=""
if [ "$rss_mb_after_1m" != null ]; then
  rss_1m_row="
| (e) daemon peak RSS (VmHWM) after $(fmt "$rss_leads") leads, in rounds of at most 200,000 | $rss_mb_after_1m MB (VmRSS now $rss_now_mb_after_1m MB) | |"
fi
e2e_table="$(cat <<TABLE
| measurement | value | vs ceiling |
| --- | ---: | --- |
| (a) raw Kafka consume ceiling: kcat, all $(fmt "$n") leads of leads.inbound (32 partitions) | $(fmt "$kafka_ceiling") msgs/s | 1 |
| (b) raw Redis pipelined EVALSHA ceiling | $(fmt "$evalsha") calls/s | 1 |
| (c) leadrouter, 1 instance: drain to an outcome for every lead | $(fmt "$leads_per_s") leads/s | $(pct "$leads_per_s" "$kafka_ceiling") of Kafka, $(pct "$leads_per_s" "$evalsha") of EVALSHA |
| (c) the same, counted from the ready line (includes the group join) | $(fmt "$leads_per_s_from_ready") leads/s | |
| (c) daemon CPU from start to drained (utime + stime) | $daemon_cpu_s s, $daemon_cpu_util cores busy | of $(nproc) cores |
| (c) daemon CPU per lead, ready line to drained | $daemon_cpu_us_per_lead µs | |
| (c) Redis executing the commit script (INFO commandstats, EVALSHA time / leads) | $script_us_per_lead µs per lead | at most $(fmt "$script_ceiling") leads/s per Redis |
| scaling: 2 instances, one group, fresh topic (consumed $split2) | $(fmt "$leads_per_s_2") leads/s | $(ratio "$leads_per_s_2" "$leads_per_s") x 1 instance |
| scaling: both daemons' CPU per lead | $two_cpu_us_per_lead µs | $two_instance_cpu_ratio x 1 instance |
| scaling: batches decided again after a refused commit ($refusals2 refusals) | $conflicted2 of $batches2 batches | $(pct "$conflicted2" "${batches2:-1}") |
| (d) event → assignment acknowledged by Kafka (the outbox's publication) at $(fmt "$offered") leads/s offered for ${latency_seconds} s ($kafka_observed observed): p50 / p99 / p999 | $kafka_p50 / $kafka_p99 / $kafka_p999 ms | bucket resolution |
| (d) event → assignment committed (in Redis, on the gRPC stream) at the same rate ($latency_observed observed): p50 / p99 / p999 | $p50 / $p99 / $p999 ms | bucket resolution |
| (d) the broker alone at the same rate: leadgen → broker → kcat, message age on arrival ($raw_observed observed): p50 / p99 / p999 | $raw_p50 / $raw_p99 / $raw_p999 ms | the floor under (d) |
| (e) daemon peak RSS (VmHWM) after $(fmt $((n + latency_count))) leads | $rss_mb MB | |$rss_1m_row
| (e) Redis used_memory per stored lead (Δ used_memory / $(fmt "$event_keys") event records, $(fmt "$redis_keys") keys in all) | $(fmt "$redis_bytes_per_lead") bytes | |
| (e) the same without the stream log (capped: $(fmt "$log_entries") entries, $(awk -v b="$log_bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MB) | $(fmt "$redis_bytes_per_lead_without_log") bytes | |
TABLE
)"
echo "$e2e_table"
echo "outcomes of (c): $outcomes"

cat >bench-result.json <<JSON
{
  "n": $n,
  "quick": $([ "$quick" = 1 ] && echo true || echo false),
  "build_dir": "$build_dir",
  "leads_per_s": $leads_per_s,
  "leads_per_s_from_ready": $leads_per_s_from_ready,
  "leads_per_s_2_instances": $leads_per_s_2,
  "startup_s": $startup_s,
  "daemon_cpu_s": $daemon_cpu_s,
  "daemon_cpu_cores_busy": $daemon_cpu_util,
  "daemon_cpu_us_per_lead": $daemon_cpu_us_per_lead,
  "two_instance_cpu_us_per_lead": $two_cpu_us_per_lead,
  "two_instance_cpu_ratio": $two_instance_cpu_ratio,
  "two_instance_conflict_rate": $two_instance_conflict_rate,
  "two_instance_conflicted_batches": $conflicted2,
  "two_instance_batches": $batches2,
  "kafka_ceiling_msgs_per_s": $kafka_ceiling,
  "redis_evalsha_ceiling_per_s": $evalsha,
  "redis_roundtrip_per_s": $rtt,
  "latency_offered_per_s": ${offered:-0},
  "latency_observed": $kafka_observed,
  "p50_ms": "$kafka_p50",
  "p99_ms": "$kafka_p99",
  "p999_ms": "$kafka_p999",
  "p50_commit_ms": "$p50",
  "p99_commit_ms": "$p99",
  "p999_commit_ms": "$p999",
  "redis_commit_us_per_lead": $script_us_per_lead,
  "broker_p50_ms": $raw_p50,
  "broker_p99_ms": $raw_p99,
  "broker_p999_ms": $raw_p999,
  "rss_mb": $rss_mb,
  "rss_mb_after_1m": $rss_mb_after_1m,
  "rss_leads": $rss_leads,
  "redis_bytes_per_live_lead": $redis_bytes_per_lead,
  "redis_bytes_per_lead_without_log": $redis_bytes_per_lead_without_log,
  "redis_log_bytes": $log_bytes,
  "redis_event_records": $event_keys,
  "outcomes": "$outcomes",
  "leadgen": "$load_summary"
}
JSON
jq . bench-result.json >/dev/null || fail "bench-result.json is not valid JSON"
echo "wrote bench-result.json"
[ "$quick" = 1 ] && exit 0

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
mem="$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
cmdline="scripts/bench.sh"
[ "$n" = 200000 ] || cmdline="$cmdline --n $n"
# The ingest section is written by hand from scripts/bench-ingest.sh: kept as it is.
ingest_section=""
if [ -f BENCHMARKS.md ]; then
  ingest_section="$(sed -n '/^<!-- bench-ingest: begin/,/^<!-- bench-ingest: end -->/p' BENCHMARKS.md)"
fi
cat >BENCHMARKS.md <<DOC
# Benchmarks

Measured by \`$cmdline\` on $(date -u +%Y-%m-%d): $(nproc) cores ($cpu), $mem, shared and
noisy, Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2) on loopback, the embedded
Kafka (librdkafka's mock cluster), release build; the daemon, Redis, the broker and the load
generator share the machine. Compare the ratios to the raw ceilings measured in the same run, not
the absolute numbers. Raw numbers: \`bench-result.json\`.

## Routing stage

$routing_table

A batch costs two Redis round trips (one pipelined load of the routing counters and the batch's
stored outcomes, one compare-and-set commit script), whatever its size, so throughput grows with
the batch until the in-process work (qualification, routing, protobuf encoding of the stored
outcomes) dominates. Single-lead batches are bound by the round trip.

## Dedupe stage

$dedupe_table

Dedupe adds no round trip of its own: a batch's person and account keys are read in the same
pipelined load as the routing state and written by the same commit script; only when a person
was seen before does one more MGET fetch the earlier leads. What it costs is the normalization
(libphonenumber, libpsl, libidn2, ICU) and the HMACs per lead, and a few more keys per lead in
each round trip.

## Decode stage: a mapped source against the native contract

$decode_table

A mapped record is parsed into a document and each rule walks its paths and transforms; the
native contract goes through the simdjson fast path. Either way it is a small part of a lead's
cost in the daemon (the stage latencies below).

## End to end

$e2e_table

Outcomes of the $(fmt "$n") leads of (c): $outcomes.
Load mix (\`leadgen --seed 1\`): \`${load_summary#leadgen: }\`.

Where the batches of (c) spent their time (\`leadrouter_stage_seconds\`: decode the events,
dedupe identities, qualify, route, load from and commit to Redis, publish the outcomes and wait
for Kafka's acknowledgement (on the publisher thread, while the next batch is prepared), wait
for that publication, commit the offsets):

$stage_table

How it is measured:
- (a) \`leadgen\` produces N LeadEvent JSON lines to \`leads.inbound\`, then \`kcat -C -o beginning -e\`
  reads all of them; msgs/s = N / its wall time.
- (c) leadrouter (the example config with the reps' daily and open-lead caps lifted,
  \`batch_max_wait_ms: 20\`, a new consumer group) drains the
  topic; the run is valid only if \`leadrouter_events_consumed_total\` and the sum of
  \`leadrouter_events_outcome_total\` both reach exactly N (checked every 50 ms). leads/s is counted
  from the first poll that sees events consumed to the poll that sees the last outcome.
- (d) \`leadgen --rate $rate\` for ${latency_seconds} s with occurred_at = produce time; p50/p99/p999 of
  \`leadrouter_lead_to_kafka_seconds\` (stamped when Kafka acknowledged the first assignment of
  the lead, published by the outbox) and of \`leadrouter_lead_to_assignment_seconds\` (stamped
  when the batch's commit returned) over that interval only (bucket counts after minus before),
  interpolated linearly inside the buckets (1, 2.5, 5, 7.5, 10, 15, 20, 30, 40, 50, 75, 100 ms,
  ...): the resolution is the bucket, not the millisecond. It includes the producer's and the
  broker's time; \`p99_ms\` in bench-result.json is the Kafka one.
  Its floor: the same \`leadgen --rate\` into a topic nobody but \`kcat\` reads, each message's
  age when kcat prints it (now minus its CreateTime, which leadgen stamps as it stamps occurred_at).
- (c) CPU per lead: the daemon's utime + stime from its ready line to drained, over N. The drain
  is polled with \`/metrics?name=...\` (only the two counters): the whole registry 20 times a
  second cost the daemon about a third of its CPU in this drain.
- Scaling: two daemons in one new group drain a fresh topic of N leads; their CPU per lead
  (both, ready to drained, over N, redeliveries of the rebalance included) against (c)'s, and
  \`leadrouter_conflicted_batches_total\` (batches decided again because a commit was refused:
  the other instance committed between the batch's load and its commit) over the batches.
- (e) VmHWM of the daemon after (c) and (d), then after 1,000,000 leads in all (further
  rounds of at most 200,000 fresh leads into the same topic, each drained before the next: the
  embedded broker keeps ~5 MiB per partition); Redis \`used_memory\` after (c) minus before (c),
  divided by the \`lr:{default}:event:*\` records written (one per event that reached a stored
  outcome), the stream log's share included.
- Duplicates: about 10% of leads are an earlier person written differently under a new event id;
  with the example config's dedupe section they become \`DUPLICATE\` events of the earlier lead.

${ingest_section}

## Found so far

- The embedded broker (librdkafka's mock cluster) left Nagle's algorithm on for its connections,
  unlike Kafka's brokers: the last acknowledgements of each produce burst waited for the client's
  delayed ACK (librdkafka protocol debug: rtt 0.3 ms, then 40.7 ms for the tail), 70 ms of
  publish per batch at 1,000 leads/s offered. \`leadrouter-kafka-mock\` now sets TCP_NODELAY on its
  sockets and the daemon's clients disable Nagle as Kafka's own clients do: publish 13 ms per
  batch; with it the drain went from 2,253 to 3,254 leads/s and p50 at 2,000 leads/s from 564 to
  91 ms (2026-11-23, same machine).
- The embedded broker answers a fetch that finds no data only after the whole
  \`fetch.wait.max.ms\` (default 500 ms) and is not woken by new data, so every lead waited up to
  half a second in the broker. The demo and bench configs set 5 ms (a Kafka broker answers a
  waiting fetch as soon as data arrives; the daemon keeps librdkafka's default).
- A perf profile of the daemon during a drain (\`perf record -g -p PID\`, 10 s, release build)
  had glibc's allocator at ~30% of the samples (_int_malloc 8.5%, _int_free 8.2%, malloc 7.8%,
  malloc_consolidate 4.0%, with lock waits), the kernel 17%, protobuf 15% (JSON parsing and
  printing), ICU's regex matcher 3% and libidn2 3% (normalization), our own code 7%. Linked with
  jemalloc, the same 60,000-lead drain ran at 4,082-4,214 instead of 3,138-3,461 leads/s, with
  25-30% less CPU (back-to-back runs); the release build now links it.
- Peak RSS while draining a backlog was mostly librdkafka's prefetch queue (64 MiB by default)
  and jemalloc's default of four arenas per core: the consumer now prefetches at most 16 MiB and
  the daemon runs jemalloc with two arenas that return freed pages after a second; in a
  100,000-lead drain peak RSS went from 159-172 MB to 94 MB at the same throughput.
- Second profile, with jemalloc (\`perf record --call-graph dwarf\`, 5 s of a 60,000-lead drain):
  protobuf's JSON printer (MessageToJsonString, which serializes to binary and re-reads it
  through a type resolver) 20.6% of the daemon's CPU, dedupe identities 19.3% (libphonenumber
  10%, libidn2 9.7%), protobuf's JSON parser 13.8%, the Redis commit 13.1% (hiredis formatting
  and copying the multi-MB script call, page faults), jemalloc's madvise/page faults ~10%.
  Fixed in turn, each checked against the previous daemon in back-to-back drains:
  a reflection-based printer byte-identical to protobuf's (\`leadrouter::protojson\`, ~6x faster),
  a simdjson parser for well-formed events that defers to protobuf for anything else (~9x),
  plain ASCII host names without libidn2, a prepared HMAC key (OpenSSL 3's one-shot HMAC()
  looked SHA-256 up and absorbed the key on every call), freed pages returned over 10 s instead
  of 1 s, and the assignment-log tailer idle when nobody subscribed. Publishing a batch now
  overlaps the next batch's work (offsets still committed in order). Together: 4,080-4,164 ->
  7,466-7,483 leads/s, daemon CPU per 60,000 leads 12.1-12.6 s -> 6.6 s.
- The third profile's largest item is libphonenumber (26%: parsing with ICU regexes and
  IsValidNumber), then our JSON printer (11%) and the Redis commit (5%).
- Batches no longer wait to fill (\`kafka.batch_linger_ms: 0\`): at 2,000 leads/s offered they
  hold ~17 leads and the decision is made ~8 ms after the event (p50), ~25 ms at worst.
- The load generator's first message to a topic was held about a second by librdkafka (the
  topic's metadata), and everything due meanwhile went out as one burst: a 2,000-lead wave at
  the start of (d) that made most of its p99 (401 ms). leadgen now fetches the metadata first.
- The embedded broker alone, at the same rate, has a p99 of 20-30 ms (see (d)'s floor): the
  10 ms p99 target is below what this broker delivers on this machine.
- Redis executes the commit script at about 30 µs per lead (the (c) row from INFO commandstats;
  the script's SETs and XADDs take a third of that, Lua and its arguments the rest): one Redis
  takes at most ~33,000 leads/s whatever the daemon does. 50,000 leads/s needs a cheaper commit
  (fewer keys per lead, native commands under WATCH/MULTI instead of one large script) or
  tenants spread over several Redis instances.
- Computing a batch's dedupe identities on two threads instead of one changed nothing on this
  machine (dedupe time per batch and drain rate equal in back-to-back runs): the second core is
  taken by Redis, the broker and librdkafka's threads. Not kept.
- Redis bytes per lead were mostly the stored outcome (1.4-2.6 KB: the lead, its qualification
  and routing explanation), and the same assignment again in the stream log. Stored outcomes are
  now zstd frames with a dictionary trained on stored outcomes (\`libs/store/data/outcome-v1.zdict\`,
  32 KB, compiled in): 500 held-out records 814 KB -> 112 KB (7.3x; without a dictionary 1.7x).
  A 20,000-lead drain's used_memory went from 60.9 to 31.8 MB, and Redis's time in the commit
  script per batch fell by a quarter (16-17 -> 11.5-13.7 ms per 500 leads, back-to-back drains).
  What is left per lead: the compressed outcome, the lead index, the person and account keys
  and Redis's per-key overhead; the stream log, capped by \`lifecycle.stream_retention_events\`,
  is reported apart.
- Issue 19 (the decision core moved to \`libs/decide\`, the simulator on it, fairness restarted on
  roster changes, strong ids) against the commit before it (0ff992d), back to back on 2026-12-02
  with \`scripts/bench.sh --n 100000 --build-dir DIR\`: drain 6,579 -> 6,507 leads/s (4.2% -> 4.1%
  of kcat's rate in each run), daemon CPU 17.2 -> 17.0 s, Redis commit 22.9 -> 22.7 us per lead,
  p50 / p99 at 2,000 leads/s 29.7 / 94.1 -> 26.5 / 93.2 ms, peak RSS 121.9 -> 117.5 MB: no
  slowdown within this machine's noise. Two instances 1.37x -> 1.19x of one (this ratio ranged
  0.83x-1.49x between runs of one build before). Redis bytes per lead 1,258 -> 1,350 (+92, of
  which +83 outside the log), most likely because every stored rule evaluation now carries the enum \`rule_kind\` next
  to the string \`kind\`, which the outcome dictionary was not trained on (not measured apart); issue 20, which reworks
  what is stored, is where that is paid back.
- Issue 20, first steps (2026-12-03; drains of 60,000 leads back to back, release build):
  - The bench perturbed what it measured: it polled the whole \`/metrics\` (~7,000 series with
    the example config's pre-created lead series) every 50 ms; perf of the daemon had
    prometheus-cpp's text serializer and Collect at ~25% of its samples. Polled every 2 s the
    same drain cost 231 instead of 327 us of CPU per lead. \`/metrics?name=F\` now renders only
    the families asked for, and the bench polls the two counters it needs (165 us at 50 ms).
  - Then the profile (perf, 6 s of the drain) had ICU's regex matcher (libphonenumber) 10.7%
    and ICU at 21%, libphonenumber 4.4%, libpsl 1.8% of the samples: normalization. Exact caches
    in front of the normalizers (company names, registrable domains, phone keys; bounded in
    bytes, in \`leadrouter_normalize_cache_*\`): in the bench's drain company names hit 91% and
    domains 92%, phones 0.3% (leadgen's numbers are random and never repeat; real ones do when
    a person signs up again). CPU per lead 214.5 / 224.3 -> 212.0 / 212.8 us (alternating runs).
    Cached and uncached results compared over 1,000,000 generated lead inputs:
    \`LEADROUTER_CACHE_CHECK_LEADS=1000000 build/release/tests/unit/normalize_test
    --gtest_filter='Caches.*'\` passed (218 s).
  - A phone number seen once costs ~60-80 us (routing_bench \`BM_PhoneKey\`; perf: ICU's
    RegexMatcher 38% of it, libphonenumber's IsValidNumber tries every number type's pattern,
    for +1 in every NANPA region), and 70% of leadgen's numbers fail validation and took a
    second parse for their fallback key. One parse shared: 1.26-1.37x on that benchmark.
  - The stream log held each AssignmentEvent uncompressed (2,334 B): entries are now zstd frames
    with the records' dictionary (493 B); a 30,000-lead drain's Redis used_memory 51.7 -> 33.5
    MB. Redis per live lead in this run 1,032 B (1,350 before), 933 B without the log.
  - Measured here, against the issue's targets: CPU per lead 200 us (target 30), Redis commit
    29 us per lead (target 6), two instances 1.38x one with CPU per lead 1.09x one (target 1.2x
    met) but 31% of their batches decided again after a refused commit (target 5%: the one
    tenant-wide version, step 2 of the issue, not done), p99 48.8 ms over a broker p99 of
    19.7 ms (target broker + 5 ms), peak RSS after 1,000,000 leads 124 MB (target 150 MB met),
    Redis 1,032 B per live lead (target 500). What the profile says is next: libphonenumber's
    validation of unseen numbers (~30% of the daemon's CPU on leadgen's mix), the commit's
    arguments and Lua, then the tenant-wide version.
- Issue 20, step 2 (2026-12-04; release build; each line says which runs):
  - Two instances refused each other's commits because every commit moved one tenant-wide
    version. A batch's commit now carries guards on exactly what its decision read: a version
    per scope of the routing hash (\`pool:<name>\`, \`rep:<id>\`, moved by every commit that
    writes a field of it), the person and account keys with the values read, and the earlier
    records its duplicates join with a stamp (SHA-1 of the stored bytes, \`redis.sha1hex\` in the
    script). Qualification, which reads nothing shared, moved before the load, out of the window
    in which another commit can refuse this one. Batches decided again with two instances on
    100,000 leads (the scaling section of bench.sh run alone, builds alternated): before 42.8%,
    38.6%, 32.8%; after 25.4%, 25.2%, 17.4%. In full bench runs: 41.6% before, 24.9%, 19.9% and
    15.9% (the run of the tables above) after.
  - Why not 5%: with the example config every batch of ~500 leads routes over all four pools
    and all three reps (the pool \`everyone\` holds every rep), so any two batches that overlap
    in time read the same scopes and the guards cannot tell them apart. What decides the rate is
    the window between a batch's load and its script, against the other instance's batch
    period: in the stage table of the 19:40 run route (outcomes, serialization) 9.6 ms and the
    client side of redis_commit (compression, arguments) within its 22.9 ms, of ~67 ms per
    batch. Instances with pools of their own do not refuse each other at all
    (\`AssignerTest.InstancesRoutingOtherPoolsDoNotMakeEachOtherDecideAgain\`). Lower needs a
    window that holds only the routed leads (a third of them): nurture and duplicates decided
    and encoded before the routing state is read.
  - One serialization and one compression per assigned lead instead of two: its log entry is a
    reference to its record in the script's arguments (stream field \`o\`), read back as the
    assignment alone. CPU per lead of one instance 130.1 us in the morning's run, 104.4 us after
    this step (same machine, same command); the 19:40 run measured 143.9 us with every stage
    slower (dedupe 19.9 vs 15.7 ms per batch): the machine is shared, compare within a run.
  - The value guards cost Redis one GET per dedupe key: the script's time per lead went 19.8 ->
    25.8 us (two runs); the guarded keys are now written without reading them again (\`SET\` for
    a changed value, \`EXPIRE ... GT\` for an unchanged one, chosen by the client that knows the
    value), 21.6 and 28.0 us in the two runs after: within this machine's noise, not the 6 us
    target, which needs the rest of the slim commit (the lead index, the per-record
    \`EXISTS\`).
  - Latency: \`leadrouter_lead_to_assignment_seconds\` was stamped after the outputs'
    acknowledgement, the offset commit and the next batch's preparation; it is now stamped at
    the commit (p99 29.3 ms in the 19:40 run, 48.0 ms the old way in the morning's), and
    \`leadrouter_lead_to_kafka_seconds\` when Kafka acknowledged the lead's first assignment
    (the issue's measure): p99 42.2 ms over a broker p99 of 12.5 ms, target 17.5 ms. Both
    histograms have buckets at 7.5, 15, 20, 30, 40 ms now.

## What the numbers say

$(awk -v l="$leads_per_s" -v k="$kafka_ceiling" -v e="$evalsha" -v b500="$b500" -v l2="$leads_per_s_2" \
     -v cpu="$daemon_cpu_util" -v p50="$kafka_p50" -v p99="$kafka_p99" -v rss="$rss_mb" -v bpl="$redis_bytes_per_lead" \
     -v top="$top_stage" -v share="$top_share" -v rp50="$raw_p50" -v rp99="$raw_p99" -v bpl2="$redis_bytes_per_lead_without_log" 'BEGIN {
  printf "One daemon drains %.0f leads/s: %.1f%% of what kcat reads from the same broker and %.0f%% of the\n", l, 100 * l / k, 100 * l / b500
  printf "Assigner alone at batches of 500 against this Redis (%.0f leads/s), while using %.2f cores. ", b500, cpu
  if (cpu < 0.6) {
    printf "The daemon\nmostly waits rather than computes: the time goes to per-batch round trips (fetch, the Redis\n"
    printf "scripts, producing the outcomes and waiting for their acknowledgement, committing), done one\n"
    printf "batch at a time. "
  } else {
    printf "The daemon is\nbusy for most of each batch (the stage table says with what). "
  }
  printf "Two instances in one group drain %.2fx one instance", l2 / l
  if (l2 / l >= 1.5) printf ", which fits a daemon bound\nby waiting, not by the machine. At"
  else printf ": a second process buys little\non this machine. At"
  printf " %s leads/s offered, p50 %s ms and p99 %s ms to the Kafka acknowledgement, over a broker whose own p50/p99 are\n", "2000", p50, p99
  printf "%s/%s ms. Peak RSS %s MB, Redis %.0f bytes per stored lead\n", rp50, rp99, rss, bpl
  printf "(the stored lead, its index, its person and account keys and its entry in the stream log;\n"
  printf "%.0f bytes without the stream log, which is capped whatever the number of leads).\n", bpl2
  printf "The stage table is the profile: %s takes %s%% of the batch time. The targets of the issue are not met.\n", top, share
}')
DOC
echo "wrote BENCHMARKS.md"
