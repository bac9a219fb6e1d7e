// Decode-stage benchmarks: LeadEvent JSON as leadgen writes it (2,000 realistic events, ~0.5% of
// them truncated garbage), through protobuf's JsonStringToMessage alone (what DecodeLeadEvent
// spent its time in before the simdjson fast path) and through DecodeLeadEvent; and the same
// people as HubSpot workflow webhook bodies through the shipped hubspot_workflow mapping (what a
// mapped source costs against the native contract).
//   build/release/tests/bench/decode_bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "leadrouter/lead/decode.h"
#include "leadrouter/sources/mapping.h"

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

// A HubSpot workflow body (a contact with properties.<name>.value) for each decodable event.
std::string HubspotBody(const v1::LeadEvent& e, size_t vid) {
  auto property = [](const char* name, const std::string& value) {
    std::string escaped;
    for (char c : value) {
      if (c == '"' || c == '\\') escaped += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) escaped += c;
    }
    return absl::StrCat("\"", name, "\":{\"value\":\"", escaped, "\"},");
  };
  std::string properties = absl::StrCat(
      property("hs_object_id", std::to_string(vid)), property("email", e.person().email()),
      property("firstname", e.person().first_name()), property("lastname", e.person().last_name()),
      property("phone", e.person().phone()), property("jobtitle", e.person().title()),
      property("company", e.company().name()), property("website", e.company().website()),
      property("industry", e.company().industry()),
      property("numberofemployees", std::to_string(e.company().employee_count())),
      property("annualrevenue", std::to_string(e.company().annual_revenue_usd())),
      property("country", e.company().country()), property("state", e.company().region()),
      property("zip", e.company().postal_code()),
      property("hs_analytics_source_data_2", e.campaign()),
      property("createdate", "1700000000000"));
  return absl::StrCat("{\"vid\":", vid, ",\"portal-id\":62515,\"properties\":{", properties,
                      "\"lastmodifieddate\":{\"value\":\"1700000360000\"}}}");
}

void BM_MapHubspotWorkflow(benchmark::State& state) {
  static const std::vector<std::string> bodies = [] {
    std::vector<std::string> out;
    for (const std::string& json : Events()) {
      lead::DecodeResult decoded = lead::DecodeLeadEvent(json, "application/json", 1 << 20);
      if (auto* e = std::get_if<v1::LeadEvent>(&decoded))
        out.push_back(HubspotBody(*e, out.size()));
    }
    return out;
  }();
  auto mapping = sources::Mapping::Parse(*sources::ShippedProfileText("hubspot_workflow"), "bench");
  if (bodies.empty() || !mapping.ok()) {
    state.SkipWithError("no bodies, or the hubspot_workflow profile does not parse");
    return;
  }
  const core::TimePoint now{std::chrono::seconds(1'780'000'000)};
  size_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string& body = bodies[i++ % bodies.size()];
    auto mapped = (*mapping)->Map(body, "application/json", now);
    benchmark::DoNotOptimize(mapped);
    bytes += body.size();
  }
  Report(state, bytes);
}
BENCHMARK(BM_MapHubspotWorkflow);

}  // namespace
}  // namespace leadrouter

BENCHMARK_MAIN();
