// Decode-stage benchmarks: LeadEvent JSON as leadgen writes it (2,000 realistic events, ~0.5% of
// them truncated garbage), through protobuf's JsonStringToMessage alone (what DecodeLeadEvent
// spent its time in before the simdjson fast path) and through DecodeLeadEvent.
//   build/release/tests/bench/decode_bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "leadrouter/lead/decode.h"

namespace leadrouter {
namespace {

const std::vector<std::string>& Events() {
  static const std::vector<std::string> events = [] {
    std::vector<std::string> lines;
    const std::string command = absl::StrCat(
        LEADGEN_BIN,
        " --seed 1 --count 2000 --occurred-at 2026-11-22T11:59:00.123456Z 2>/dev/null");
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return lines;
    std::string line;
    char buffer[4096];
    while (fgets(buffer, sizeof buffer, pipe) != nullptr) {
      line += buffer;
      if (line.back() == '\n') {
        line.pop_back();
        lines.push_back(std::move(line));
        line.clear();
      }
    }
    pclose(pipe);
    return lines;
  }();
  return events;
}

void Report(benchmark::State& state, size_t bytes) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_ProtobufJsonStringToMessage(benchmark::State& state) {
  const auto& events = Events();
  if (events.empty()) {
    state.SkipWithError("no events: could not run leadgen");
    return;
  }
  size_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string& json = events[i++ % events.size()];
    v1::LeadEvent event;
    auto status = google::protobuf::util::JsonStringToMessage(
        json, &event, google::protobuf::util::JsonParseOptions());
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(event);
    bytes += json.size();
  }
  Report(state, bytes);
}
BENCHMARK(BM_ProtobufJsonStringToMessage);

void BM_DecodeLeadEvent(benchmark::State& state) {
  const auto& events = Events();
  if (events.empty()) {
    state.SkipWithError("no events: could not run leadgen");
    return;
  }
  size_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string& json = events[i++ % events.size()];
    lead::DecodeResult result = lead::DecodeLeadEvent(json, "application/json", 1 << 20);
    benchmark::DoNotOptimize(result);
    bytes += json.size();
  }
  Report(state, bytes);
}
BENCHMARK(BM_DecodeLeadEvent);

}  // namespace
}  // namespace leadrouter

BENCHMARK_MAIN();
