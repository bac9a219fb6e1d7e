#!/usr/bin/env bash
# Rebuilds the zstd dictionary stored outcomes are compressed with (libs/store/record_codec.h):
# drains leadgen's lead mix through a release daemon, dumps the stored records and trains on them.
# A new dictionary must get a new id (and the old one must stay readable): pass --dict-id.
# Usage: scripts/train-record-dict.sh [--dict-id N] [--out FILE]   (needs the zstd command)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

dict_id=1
out=libs/store/data/outcome-v1.zdict
while [ $# -gt 0 ]; do
  case "$1" in
    --dict-id) dict_id="$2"; shift ;;
    --out) out="$2"; shift ;;
    *) echo "usage: scripts/train-record-dict.sh [--dict-id N] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
command -v zstd >/dev/null || { echo "train-record-dict: needs the zstd command (apt-get install zstd)" >&2; exit 1; }

bd=build/release
scripts/build.sh release --target leadgen leadrouter leadrouter-kafka-mock >/dev/null
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
start_redis || exit 1
"$bd/services/kafka-mock/leadrouter-kafka-mock" --topic leads.inbound:32 --topic leads.assignments:32 \
  --topic leads.nurture:32 --topic leads.deadletter:32 >"$work/kafka.out" 2>"$work/kafka.log" &
pids+=($!)
bootstrap="$(wait_for_line 'bootstrap=' 30 "$work/kafka.out" | cut -d= -f2)"
count=8000
"$bd/tests/bench/leadgen" --seed 11 --count "$count" --bootstrap "$bootstrap" --topic leads.inbound \
  2>"$work/leadgen.log"
example_config "$bootstrap" "$redis_port" train-dict \
  -e "s|daily_cap: 40 |daily_cap: 0 |" -e "s|max_open_leads: 200 |max_open_leads: 0 |" >"$work/lr.yaml"
"$bd/services/leadrouter/leadrouter" --config "$work/lr.yaml" >"$work/lr.out" 2>"$work/lr.log" &
pids+=($!)
line="$(wait_for_line 'leadrouter ready' 60 "$work/lr.out")"
metrics_url="$(tr ' ' '\n' <<<"$line" | grep '^metrics=' | cut -d= -f2-)"
for _ in $(seq 600); do
  done_count="$(curl -s "$metrics_url" | awk '/^leadrouter_events_outcome_total\{/{s += $NF} END {printf "%d", s}')"
  [ "$done_count" -ge "$count" ] && break
  sleep 0.1
done
# The stored records are compressed with the dictionary this build has (v1): the samples are
# the outcomes themselves, decompressed with it.
mkdir -p "$work/samples"
i=0
current_dict=libs/store/data/outcome-v1.zdict
for key in $(redis-cli -p "$redis_port" --scan --pattern 'lr:{default}:event:*' | head -4000); do
  redis-cli -p "$redis_port" --raw get "$key" | head -c -1 >"$work/stored"
  if [ "$(head -c 4 "$work/stored" | od -An -tx1 | tr -d ' ')" = "28b52ffd" ]; then
    zstd -q -d -D "$current_dict" -c "$work/stored" >"$work/samples/$i.bin"
  else
    cp "$work/stored" "$work/samples/$i.bin"
  fi
  i=$((i + 1))
done
zstd -q --train "$work"/samples/*.bin -o "$out" --maxdict=32768 --dictID="$dict_id" -f
echo "train-record-dict: $out from $i records (dictionary id $dict_id)"
