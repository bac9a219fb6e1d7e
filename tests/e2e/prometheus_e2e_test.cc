// End to end with a real Prometheus (issue 8): redis-server, the embedded Kafka, one leadrouter
// daemon and a Prometheus server (from PATH, e.g. Debian's `prometheus`) that scrapes the daemon
// every second and evaluates the shipped deploy/prometheus/rules.yml. The test routes and returns
// leads of two source kinds through the daemon and leadctl, then reads the return rates back from
// Prometheus's HTTP API: the raw counters and the recording rules must say exactly what the test
// did.
//
// Why a warm-up phase. leadrouter creates a labelled series of leadrouter_lead_events_total (and
// leadrouter_lead_returns_total) on its first increment, so Prometheus first sees a series with a
// value >= 1, and rate()/increase() never count the increments made before a series' first
// scrape. The test therefore creates every series it measures (same source kind, campaign,
// territory, pool, event, reason) before Prometheus starts, so that all of them get their first
// sample in the same scrape; only what happens after that first scrape is in the rules' window.
//
// Why the recording rules can be compared exactly. rate() extrapolates each series' increase by
// (sampled interval + extension at each end) / sampled interval. Every measured series has the
// same scrape timestamps (same target, first sample in the same scrape), so the factor is the
// same for all of them, provided the extension at the start is half a scrape interval for each
// (Prometheus uses the "counter would reach zero" distance instead when that is shorter than 1.1
// intervals: sampled interval * first value / increase; with these counts, once about 6 s of
// samples are in the window, which the measured phase alone takes; an earlier evaluation is just
// followed by the next one). The factor then cancels in returned / assigned and the recorded
// ratio is the exact ratio of the increases, up to floating-point rounding (1e-9). The ratio of
// the raw counters (everything since the daemon started) is checked exactly on its own.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/testing/daemon_fixture.h"
#include "leadrouter/testing/e2e.h"
#include "leadrouter/testing/free_port.h"
#include "leadrouter/testing/http_get.h"
#include "leadrouter/testing/subprocess.h"

#ifndef LEADROUTER_SOURCE_DIR
#error "LEADROUTER_SOURCE_DIR must be defined for this test"
#endif

namespace leadrouter {
namespace {

using namespace std::chrono_literals;
using testing::CommandResult;
using testing::StreamCollector;
using testing::Subprocess;

constexpr char kRulesFile[] = LEADROUTER_SOURCE_DIR "/deploy/prometheus/rules.yml";
// The 1h lead-funnel group of rules.yml is evaluated every minute (its own `interval`, which
// overrides evaluation_interval): waiting for the recorded ratios can take a little over a
// minute, and a CI machine may be slow. Two and a half evaluations.
constexpr auto kRuleDeadline = 150s;

// What the test does with the leads of one source kind. Every returned lead is returned once, by
// its first holder, and re-routed to another rep: one more "assigned" event.
struct SourcePlan {
  std::string kind;  // the LeadSourceKind's short name, the metrics' source_kind label
  int warmup_leads;  // before Prometheus starts (creates the series)
  int warmup_returns;
  int leads;  // while Prometheus scrapes (in the rules' window)
  int returns;

  int WarmupAssigned() const { return warmup_leads + warmup_returns; }
  int Assigned() const { return leads + returns; }  // new leads + re-routes, in the window
  int TotalAssigned() const { return WarmupAssigned() + Assigned(); }
  int TotalReturned() const { return warmup_returns + returns; }
};

const std::vector<SourcePlan>& Plan() {
  // INBOUND_MARKETING: 3 of 6 returned → assigned 6 + 3 re-routes = 9 → return ratio 3/9.
  // PARTNER: 1 of 4 returned → assigned 4 + 1 = 5 → 1/5.
  static const auto* const plan = new std::vector<SourcePlan>{
      {"INBOUND_MARKETING", 1, 1, 6, 3},
      {"PARTNER", 1, 1, 4, 1},
  };
  return *plan;
}

std::string LeadJson(const std::string& event_id, const std::string& kind) {
  return absl::StrCat(R"({"event_id":")", event_id,
                      R"(","occurred_at":"2026-11-22T09:00:00Z","source_system":"webform",)",
                      R"("source_kind":"LEAD_SOURCE_KIND_)", kind,
                      R"(","campaign":"spring","person":{"first_name":"Test","email":")", event_id,
                      R"(@example.com"},"company":{"name":"Co )", event_id,
                      R"(","country":"US"}})");
}

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// leadrouter_lead_events_total's series as the daemon exposes it (labels sorted, empty
// territory: no territories configured, everything in the default pool).
std::string EventSeries(const std::string& event, const std::string& kind) {
  return absl::StrCat(R"(leadrouter_lead_events_total{campaign="spring",event=")", event,
                      R"(",pool="default",source_kind=")", kind, R"(",territory=""})");
}

// One element of an instant vector from the query API.
struct Sample {
  std::string metric;  // the JSON object of its labels, e.g. {"reason":"bad_fit"}
  double value = 0;
};

class PrometheusEndToEnd : public testing::DaemonFixture {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/prometheus-e2e-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    DaemonFixture::SetUp();
    config_path_ = dir_ + "/leadrouter.yaml";
  }

  void TearDown() override {
    // Prometheus first (it stops scraping), then the daemon, gracefully; the rest on destruction.
    if (prometheus_) (void)prometheus_->Terminate(10s);
    if (!daemons_.empty()) {
      auto code = StopDaemon();
      EXPECT_TRUE(code.ok() && *code == 0)
          << "leadrouter did not stop cleanly: "
          << (code.ok() ? std::to_string(*code) : code.status().ToString());
    }
    DaemonFixture::TearDown();  // the daemon's output, if the test failed
    if (HasFailure()) {
      if (prometheus_) std::cerr << "--- prometheus ---\n" << prometheus_->Output();
      std::cerr << "(Prometheus data kept in " << dir_ << ")\n";
    } else {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  // Starts the daemon; returns its gRPC target and sets metrics_port_.
  std::string StartLeadrouter() {
    WriteConfig({.group_id = "prometheus-e2e",
                 .metrics = R"({listen: "127.0.0.1:0", campaigns: [spring]})",
                 .rest = "reps: [{id: rep-ada}, {id: rep-grace}, {id: rep-linus}]\n"
                         "lifecycle: {accept_sla_s: 0, max_attempts: 3}\n"});
    return StartDaemon();
  }

  // Starts Prometheus scraping the daemon every second with the shipped rules; waits for
  // /-/ready. Retries on another port if the free port was taken meanwhile.
  void StartPrometheus() {
    const std::string config = dir_ + "/prometheus.yml";
    std::ofstream(config, std::ios::trunc) << absl::StrCat(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  scrape_timeout: 1s\n"
        "  evaluation_interval: 1s\n"
        "rule_files:\n"
        "  - ",
        kRulesFile,
        "\n"
        "scrape_configs:\n"
        "  - job_name: leadrouter\n"
        "    static_configs:\n"
        "      - targets: [\"127.0.0.1:",
        metrics_port_, "\"]\n");
    for (int attempt = 0; attempt < 3 && !prometheus_; ++attempt) {
      const int port = testing::FreeLoopbackPort();
      ASSERT_GT(port, 0);
      auto process = Subprocess::Start(
          {"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir_ + "/data",
           absl::StrCat("--web.listen-address=127.0.0.1:", port), "--web.enable-lifecycle"});
      ASSERT_TRUE(process.ok()) << process.status() << " (is prometheus installed?)";
      const auto until = std::chrono::steady_clock::now() + 60s;
      while (std::chrono::steady_clock::now() < until && (*process)->Running()) {
        if (testing::HttpGet("127.0.0.1", port, "/-/ready").ok()) {
          prometheus_ = std::move(*process);
          prometheus_port_ = port;
          break;
        }
        std::this_thread::sleep_for(200ms);
      }
      if (!prometheus_) std::cerr << "prometheus did not start:\n" << (*process)->Output();
    }
    ASSERT_TRUE(prometheus_) << "prometheus never became ready";
  }

  // An instant query through Prometheus's HTTP API: every element of the resulting vector.
  absl::StatusOr<std::vector<Sample>> Query(const std::string& expr) {
    auto body =
        testing::HttpGet("127.0.0.1", prometheus_port_, "/api/v1/query?query=" + UrlEncode(expr));
    if (!body.ok()) return body.status();
    if (body->find(R"("status":"success")") == std::string::npos ||
        body->find(R"("resultType":"vector")") == std::string::npos) {
      return absl::InternalError(absl::StrCat("unexpected answer: ", *body));
    }
    // {"metric":{...labels...},"value":[<unix time>,"<number>"]}; label values here never
    // contain braces.
    static const std::regex kElement(
        R"re(\{"metric":(\{[^{}]*\}),"value":\[[0-9.eE+-]+,"([^"]+)"\]\})re");
    std::vector<Sample> samples;
    for (std::sregex_iterator it(body->begin(), body->end(), kElement), end; it != end; ++it) {
      samples.push_back({(*it)[1].str(), std::stod((*it)[2].str())});
    }
    return samples;
  }

  // The value of a query that must return exactly one element; NotFound when it returns none.
  absl::StatusOr<double> QueryOne(const std::string& expr) {
    auto samples = Query(expr);
    if (!samples.ok()) return samples.status();
    if (samples->empty()) return absl::NotFoundError(absl::StrCat("no result for ", expr));
    if (samples->size() > 1) {
      return absl::FailedPreconditionError(absl::StrCat(samples->size(), " results for ", expr));
    }
    return samples->front().value;
  }

  // Polls until `expr` returns one value equal to `want` (within `tolerance`) or `timeout`
  // passes; returns the last answer.
  absl::StatusOr<double> AwaitValue(const std::string& expr, double want, double tolerance,
                                    std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    absl::StatusOr<double> value = QueryOne(expr);
    while (!(value.ok() && std::abs(*value - want) <= tolerance) &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(500ms);
      value = QueryOne(expr);
    }
    return value;
  }

  double DaemonMetric(const std::string& series) {
    auto body = Scrape();
    if (!body.ok()) return -1;
    auto value = testing::PrometheusSample(*body, series);
    return value.ok() ? *value : 0;
  }

  void Publish(const std::string& event_id, const std::string& kind) {
    DaemonFixture::Publish(LeadJson(event_id, kind), {{"content-type", "application/json"}});
  }

  // Publishes `leads` leads of each kind (ids "<phase>-<kind>-<i>"), waits for their
  // assignments on the stream, then has the first holder of the first `returns` of each kind
  // return it (bad_fit) with leadctl, which re-routes it to another rep. `warmup` picks the
  // counts of the plan.
  void RouteAndReturn(const std::string& target, StreamCollector& stream, bool warmup) {
    const std::string phase = warmup ? "warmup" : "measured";
    std::vector<std::pair<std::string, int>> to_return;  // event id, and how many of the kind
    size_t published = 0;
    for (const auto& source : Plan()) {
      const int leads = warmup ? source.warmup_leads : source.leads;
      const int returns = warmup ? source.warmup_returns : source.returns;
      ASSERT_LE(returns, leads);
      for (int i = 0; i < leads; ++i) {
        const std::string id = absl::StrCat(phase, "-", source.kind, "-", i);
        Publish(id, source.kind);
        ++published;
        if (i < returns) to_return.emplace_back(id, 0);
      }
    }
    // The first assignment of each new lead, by the id of the event that brought it.
    std::map<std::string, v1::AssignmentEvent> assigned;
    const auto until = std::chrono::steady_clock::now() + 60s;
    size_t seen = 0;
    while (std::chrono::steady_clock::now() < until) {
      auto events = stream.WaitFor(seen + 1, 1s);
      seen = events.size();
      assigned.clear();
      for (const auto& e : events) {
        if (e.status() == v1::ASSIGNMENT_STATUS_ASSIGNED && e.attempt() == 1 &&
            e.event_id().rfind(phase + "-", 0) == 0) {
          assigned.emplace(e.event_id(), e);
        }
      }
      if (assigned.size() == published) break;
    }
    ASSERT_EQ(assigned.size(), published) << "not every " << phase << " lead was assigned";
    for (const auto& [id, unused] : to_return) {
      const v1::AssignmentEvent& lead = assigned.at(id);
      const CommandResult returned = Leadctl(
          target, {"return", lead.lead_id(), "--rep", lead.rep_id(), "--reason", "bad_fit"});
      const std::string& output = returned.output;
      ASSERT_EQ(returned.code, 0) << output;
      ASSERT_NE(output.find("RETURNED " + lead.lead_id() + " by " + lead.rep_id() + " (bad_fit)"),
                std::string::npos)
          << output;
      // Re-routed, not queued: the re-route is the "assigned" event the expected ratio counts.
      ASSERT_NE(output.find("ASSIGNED " + lead.lead_id() + " -> "), std::string::npos) << output;
    }
  }

  std::unique_ptr<Subprocess> prometheus_;
  std::string dir_;
  int prometheus_port_ = 0;
};

TEST_F(PrometheusEndToEnd, RecordedReturnRatesBySourceEqualWhatWasRoutedAndReturned) {
  const std::string target = StartLeadrouter();
  ASSERT_FALSE(target.empty());
  StreamCollector stream(target);
  std::this_thread::sleep_for(300ms);  // the subscription is registered

  // Warm-up, before Prometheus starts: creates every series the test measures. Wait until the
  // daemon counts it all, so Prometheus's first scrape sees the whole warm-up.
  RouteAndReturn(target, stream, /*warmup=*/true);
  if (HasFatalFailure()) return;
  for (const auto& source : Plan()) {
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < until &&
           (DaemonMetric(EventSeries("assigned", source.kind)) != source.WarmupAssigned() ||
            DaemonMetric(EventSeries("returned", source.kind)) != source.warmup_returns)) {
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(DaemonMetric(EventSeries("assigned", source.kind)), source.WarmupAssigned());
    ASSERT_EQ(DaemonMetric(EventSeries("returned", source.kind)), source.warmup_returns);
  }

  StartPrometheus();
  if (HasFatalFailure()) return;
  int warmup_events = 0;
  for (const auto& source : Plan()) {
    warmup_events += source.WarmupAssigned() + source.warmup_returns;
  }
  auto scraped = AwaitValue("sum(leadrouter_lead_events_total)", warmup_events, 0, 60s);
  ASSERT_TRUE(scraped.ok() && *scraped == warmup_events)
      << "Prometheus never scraped the warm-up: " << scraped.status()
      << (scraped.ok() ? absl::StrCat(" value ", *scraped) : "");

  // The measured phase: everything the recording rules' window contains.
  RouteAndReturn(target, stream, /*warmup=*/false);
  if (HasFatalFailure()) return;

  // The raw counters, from Prometheus: exactly what the daemon counted since it started
  // (warm-up included), and their ratio exactly returned / assigned.
  int total_returns = 0;
  for (const auto& source : Plan()) {
    total_returns += source.TotalReturned();
    const std::string kind = absl::StrCat(R"(source_kind=")", source.kind, R"(")");
    auto assigned = AwaitValue(
        absl::StrCat(R"(sum(leadrouter_lead_events_total{event="assigned",)", kind, "})"),
        source.TotalAssigned(), 0, 60s);
    ASSERT_TRUE(assigned.ok()) << assigned.status();
    EXPECT_EQ(*assigned, source.TotalAssigned()) << source.kind;
    auto returned = AwaitValue(
        absl::StrCat(R"(sum(leadrouter_lead_events_total{event="returned",)", kind, "})"),
        source.TotalReturned(), 0, 60s);
    ASSERT_TRUE(returned.ok()) << returned.status();
    EXPECT_EQ(*returned, source.TotalReturned()) << source.kind;
    auto ratio = QueryOne(absl::StrCat(
        R"(sum by (source_kind) (leadrouter_lead_events_total{event="returned",)", kind,
        R"(}) / sum by (source_kind) (leadrouter_lead_events_total{event="assigned",)", kind,
        "})"));
    ASSERT_TRUE(ratio.ok()) << ratio.status();
    EXPECT_DOUBLE_EQ(*ratio, static_cast<double>(source.TotalReturned()) / source.TotalAssigned())
        << source.kind;
  }
  // Returns by reason: one reason, every return (the other reasons' series exist, pre-created
  // at 0 from the config, so rate() counts their first return).
  auto by_reason = Query("sum by (reason) (leadrouter_lead_returns_total) > 0");
  ASSERT_TRUE(by_reason.ok()) << by_reason.status();
  ASSERT_EQ(by_reason->size(), 1u);
  EXPECT_EQ(by_reason->front().metric, R"({"reason":"bad_fit"})");
  EXPECT_EQ(by_reason->front().value, total_returns);
  for (const auto& source : Plan()) {
    auto returns = QueryOne(absl::StrCat(R"(sum(leadrouter_lead_returns_total{reason="bad_fit",)",
                                         R"(source_kind=")", source.kind, R"("}))"));
    ASSERT_TRUE(returns.ok()) << returns.status();
    EXPECT_EQ(*returns, source.TotalReturned()) << source.kind;
  }

  // The recording rules over the 1h window: only what happened after Prometheus's first scrape
  // (the measured phase), and, as the extrapolation factor cancels (see the top), exactly
  // returned / assigned: e.g. INBOUND_MARKETING 3 / (6 + 3).
  constexpr double kTolerance = 1e-9;
  int window_returns = 0;
  int window_assigned = 0;
  for (const auto& source : Plan()) {
    window_returns += source.returns;
    window_assigned += source.Assigned();
    const double want = static_cast<double>(source.returns) / source.Assigned();
    auto recorded =
        AwaitValue(absl::StrCat(R"(source_kind:leadrouter_lead_return_ratio:rate1h{source_kind=")",
                                source.kind, R"("})"),
                   want, kTolerance, kRuleDeadline);
    ASSERT_TRUE(recorded.ok()) << recorded.status();
    EXPECT_NEAR(*recorded, want, kTolerance)
        << source.kind << ": " << source.returns << " returned / " << source.Assigned()
        << " assigned in the window";
  }
  // Returns by reason as a share of all assignments in the window: (3 + 1) / (9 + 5).
  const double want_by_reason = static_cast<double>(window_returns) / window_assigned;
  auto recorded_by_reason =
      AwaitValue(R"(reason:leadrouter_lead_return_ratio:rate1h{reason="bad_fit"})", want_by_reason,
                 kTolerance, kRuleDeadline);
  ASSERT_TRUE(recorded_by_reason.ok()) << recorded_by_reason.status();
  EXPECT_NEAR(*recorded_by_reason, want_by_reason, kTolerance);
  // The overall ratio over every source kind, from the same rules file.
  auto recorded_overall =
      AwaitValue("leadrouter:lead_return_ratio:rate1h", want_by_reason, kTolerance, 10s);
  ASSERT_TRUE(recorded_overall.ok()) << recorded_overall.status();
  EXPECT_NEAR(*recorded_overall, want_by_reason, kTolerance);

  // The stream agrees with what the counters say happened: every assignment and return.
  int total_assigned = 0;
  for (const auto& source : Plan()) total_assigned += source.TotalAssigned();
  const auto events = stream.WaitFor(total_assigned + total_returns, 30s);
  int assigned_events = 0;
  int returned_events = 0;
  for (const auto& e : events) {
    assigned_events += e.status() == v1::ASSIGNMENT_STATUS_ASSIGNED;
    returned_events += e.status() == v1::ASSIGNMENT_STATUS_RETURNED;
  }
  EXPECT_EQ(assigned_events, total_assigned);
  EXPECT_EQ(returned_events, total_returns);
}

}  // namespace
}  // namespace leadrouter
