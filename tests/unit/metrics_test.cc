// The metric families as Prometheus scrapes them: PipelineMetrics' registry rendered in the text
// exposition format, checked as text.
#include "leadrouter/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>
#include <string>

#include "leadrouter/testing/http_get.h"

namespace leadrouter::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Render(const PipelineMetrics& metrics) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, metrics.registry()->Collect());
  return out.str();
}

// How many sample lines start with `prefix` (a metric name, maybe with the start of its labels).
size_t Lines(const std::string& text, const std::string& prefix) {
  size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.rfind(prefix, 0) == 0;
  return n;
}

TEST(MetricsTest, NewFamiliesHaveHelpAndType) {
  PipelineMetrics metrics;
  // Give every labelled family a series: a family without one is not rendered at all.
  metrics.SetConsumerLag({{"leads.inbound", 0, 1}});
  metrics.PrecreateRedisOp("load");
  metrics.RpcFinished("/leadrouter.v1.RouterService/AcceptLead", "OK", 0.01);
  metrics.SetRoutingLoad({{{"americas", 0.1}}, {{"americas", 3}}, {{"rep-ada", 2}}});
  const std::string text = Render(metrics);
  for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
           {"leadrouter_consumer_lag_messages", "gauge"},
           {"leadrouter_redis_command_seconds", "histogram"},
           {"leadrouter_redis_errors_total", "counter"},
           {"leadrouter_grpc_requests_total", "counter"},
           {"leadrouter_grpc_request_seconds", "histogram"},
           {"leadrouter_pool_fairness_deviation", "gauge"},
           {"leadrouter_pool_open_leads", "gauge"},
           {"leadrouter_rep_open_leads", "gauge"},
       }) {
    EXPECT_THAT(text, HasSubstr("# HELP " + name + " ")) << name;
    EXPECT_THAT(text, HasSubstr("# TYPE " + name + " " + type + "\n")) << name;
  }
}

TEST(MetricsTest, ConsumerLagKeepsOnlyTheCurrentPartitions) {
  PipelineMetrics metrics;
  metrics.SetConsumerLag({{"leads.inbound", 0, 5}, {"leads.inbound", 1, 0}});
  std::string text = Render(metrics);
  EXPECT_THAT(
      text,
      HasSubstr("leadrouter_consumer_lag_messages{partition=\"0\",topic=\"leads.inbound\"} 5\n"));
  EXPECT_THAT(
      text,
      HasSubstr("leadrouter_consumer_lag_messages{partition=\"1\",topic=\"leads.inbound\"} 0\n"));

  // A rebalance took partition 0 away: its series goes, partition 1 is updated.
  metrics.SetConsumerLag({{"leads.inbound", 1, 7}});
  text = Render(metrics);
  EXPECT_THAT(text, Not(HasSubstr("partition=\"0\"")));
  EXPECT_THAT(
      text,
      HasSubstr("leadrouter_consumer_lag_messages{partition=\"1\",topic=\"leads.inbound\"} 7\n"));

  metrics.SetConsumerLag({});
  EXPECT_EQ(Lines(Render(metrics), "leadrouter_consumer_lag_messages{"), 0u);
}

TEST(MetricsTest, RedisRoundTripsByOpWithErrors) {
  PipelineMetrics metrics;
  metrics.PrecreateRedisOp("sla");
  metrics.ObserveRedis("commit", 0.002, true);
  metrics.ObserveRedis("commit", 0.004, false);
  const std::string text = Render(metrics);
  EXPECT_THAT(text, HasSubstr("leadrouter_redis_command_seconds_count{op=\"commit\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_redis_command_seconds_sum{op=\"commit\"} 0.006"));
  EXPECT_THAT(text, HasSubstr("leadrouter_redis_errors_total{op=\"commit\"} 1\n"));
  // Pre-created: there from the first scrape, at 0.
  EXPECT_THAT(text, HasSubstr("leadrouter_redis_command_seconds_count{op=\"sla\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_redis_errors_total{op=\"sla\"} 0\n"));
}

TEST(MetricsTest, GrpcCallsByMethodAndCodeLatencyForUnaryOnly) {
  PipelineMetrics metrics;
  const std::string accept = "/leadrouter.v1.RouterService/AcceptLead";
  const std::string stream = "/leadrouter.v1.RouterService/StreamAssignments";
  metrics.RpcFinished(accept, "OK", 0.01);
  metrics.RpcFinished(accept, "OK", 0.02);
  metrics.RpcFinished(accept, "NOT_FOUND", 0.001);
  metrics.RpcFinished(stream, "CANCELLED", std::nullopt);
  const std::string text = Render(metrics);
  EXPECT_THAT(
      text, HasSubstr("leadrouter_grpc_requests_total{code=\"OK\",method=\"" + accept + "\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_grpc_requests_total{code=\"NOT_FOUND\",method=\"" +
                              accept + "\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_grpc_requests_total{code=\"CANCELLED\",method=\"" +
                              stream + "\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("leadrouter_grpc_request_seconds_count{method=\"" + accept + "\"} 3\n"));
  EXPECT_THAT(text, Not(HasSubstr("leadrouter_grpc_request_seconds_count{method=\"" + stream)));
}

TEST(MetricsTest, RoutingLoadGaugesFollowTheConfig) {
  PipelineMetrics metrics;
  metrics.SetRoutingLoad({{{"americas", 0.25}, {"emea", 0}},
                          {{"americas", 4}, {"emea", 1}},
                          {{"rep-ada", 3}, {"rep-linus", 1}}});
  std::string text = Render(metrics);
  EXPECT_THAT(text, HasSubstr("leadrouter_pool_fairness_deviation{pool=\"americas\"} 0.25\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_pool_open_leads{pool=\"emea\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_rep_open_leads{rep=\"rep-ada\"} 3\n"));

  // emea and rep-linus left the config.
  metrics.SetRoutingLoad({{{"americas", 0.5}}, {{"americas", 2}}, {{"rep-ada", 2}}});
  text = Render(metrics);
  EXPECT_THAT(text, HasSubstr("leadrouter_pool_fairness_deviation{pool=\"americas\"} 0.5\n"));
  EXPECT_THAT(text, Not(HasSubstr("emea")));
  EXPECT_THAT(text, Not(HasSubstr("rep-linus")));
}

TEST(MetricsTest, FixedLabelSeriesExistAtZeroFromTheStart) {
  PipelineMetrics metrics;
  const std::string text = Render(metrics);
  for (const char* outcome : {"assigned", "unassigned", "duplicate", "nurture", "disqualified",
                              "replayed", "dead_letter"}) {
    EXPECT_THAT(text, HasSubstr(std::string("leadrouter_events_outcome_total{outcome=\"") +
                                outcome + "\"} 0\n"));
  }
  EXPECT_THAT(text, HasSubstr("leadrouter_dedupe_matches_total{kind=\"person\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_config_reloads_total{result=\"refused\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_batch_failures_total{stage=\"redis\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_stage_seconds_count{stage=\"qualify\"} 0\n"));
}

PipelineMetrics::LeadSeriesSpace SmallSpace() {
  PipelineMetrics::LeadSeriesSpace space;
  space.events = {"assigned", "returned"};
  space.source_kinds = {"PARTNER", "EVENT"};
  space.campaigns = {"q4", "other", "none"};
  space.territory_pools = {{"", ""}, {"americas", "americas"}, {"americas", ""}};
  space.return_reasons = {"bad_fit"};
  space.reps = {"rep-ada", "rep-grace"};
  space.source_kind_names = {"LEAD_SOURCE_KIND_PARTNER"};
  space.deadletter_reasons = {"undecodable"};
  space.requirements = {"no-free-mail"};
  return space;
}

TEST(MetricsTest, PrecreatesTheLeadSeriesTheConfigBoundsAtZero) {
  PipelineMetrics metrics;
  const auto report = metrics.PrecreateLeadSeries(SmallSpace());
  // 2 reps x 2 events + 1 kind x 4 + 1 + 1 + (2 events + 1 reason) x 2 x 3 x 3.
  EXPECT_EQ(report.wanted, 4u + 4 + 1 + 1 + 54);
  EXPECT_EQ(report.created, report.wanted);
  const std::string text = Render(metrics);
  EXPECT_EQ(Lines(text, "leadrouter_lead_events_total{"), 36u);
  EXPECT_EQ(Lines(text, "leadrouter_lead_returns_total{"), 18u);
  EXPECT_THAT(text, HasSubstr("leadrouter_lead_events_total{campaign=\"q4\",event=\"returned\","
                              "pool=\"americas\",source_kind=\"PARTNER\",territory=\"americas\"} "
                              "0\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_lead_returns_total{campaign=\"none\",pool=\"\","
                              "reason=\"bad_fit\",source_kind=\"EVENT\",territory=\"\"} 0\n"));
  EXPECT_THAT(
      text,
      HasSubstr("leadrouter_rep_lead_events_total{event=\"assigned\",rep=\"rep-grace\"} 0\n"));
  EXPECT_THAT(
      text,
      HasSubstr("leadrouter_leads_assigned_total{source_kind=\"LEAD_SOURCE_KIND_PARTNER\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_leads_qualification_total{outcome=\"nurture\","
                              "source_kind=\"LEAD_SOURCE_KIND_PARTNER\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_events_deadlettered_total{reason=\"undecodable\"} 0\n"));
  EXPECT_THAT(
      text,
      HasSubstr("leadrouter_leads_failed_requirement_total{requirement=\"no-free-mail\"} 0\n"));

  // An increment lands on the pre-created series (the same labels), not on a twin.
  metrics.LeadEvent("returned", {"PARTNER", "q4", "americas", "americas", "rep-ada"}, "bad_fit");
  const std::string after = Render(metrics);
  EXPECT_EQ(Lines(after, "leadrouter_lead_events_total{"), 36u);
  EXPECT_THAT(after, HasSubstr("leadrouter_lead_events_total{campaign=\"q4\",event=\"returned\","
                               "pool=\"americas\",source_kind=\"PARTNER\",territory=\"americas\"} "
                               "1\n"));
  EXPECT_THAT(after, HasSubstr("leadrouter_lead_returns_total{campaign=\"q4\",pool=\"americas\","
                               "reason=\"bad_fit\",source_kind=\"PARTNER\",territory=\"americas\"} "
                               "1\n"));
}

TEST(MetricsTest, PrecreationStopsAtTheCap) {
  PipelineMetrics metrics;
  const auto report = metrics.PrecreateLeadSeries(SmallSpace(), /*max_series=*/20);
  EXPECT_EQ(report.wanted, 64u);
  EXPECT_EQ(report.created, 20u);
  const std::string text = Render(metrics);
  // The small families first (10 series), then 10 of the 36 lead event series, no returns.
  EXPECT_EQ(Lines(text, "leadrouter_rep_lead_events_total{"), 4u);
  EXPECT_EQ(Lines(text, "leadrouter_lead_events_total{"), 10u);
  EXPECT_EQ(Lines(text, "leadrouter_lead_returns_total{"), 0u);
}

TEST(MetricsTest, NormalizerCachesAreCountersAndGaugesPerCache) {
  PipelineMetrics metrics;
  metrics.SetNormalizeCaches({{.name = "phone",
                               .hits = 5,
                               .misses = 2,
                               .entries = 2,
                               .bytes = 300,
                               .budget_bytes = 4096}});
  metrics.SetNormalizeCaches({{.name = "phone",
                               .hits = 9,
                               .misses = 3,
                               .entries = 3,
                               .bytes = 450,
                               .budget_bytes = 4096}});
  const std::string text = Render(metrics);
  EXPECT_THAT(text, HasSubstr("leadrouter_normalize_cache_lookups_total{cache=\"phone\","
                              "result=\"hit\"} 9\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_normalize_cache_lookups_total{cache=\"phone\","
                              "result=\"miss\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_normalize_cache_bytes{cache=\"phone\"} 450\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_normalize_cache_entries{cache=\"phone\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("leadrouter_normalize_cache_budget_bytes{cache=\"phone\"} 4096\n"));
  // The process's own caches are there from the start.
  EXPECT_THAT(text, HasSubstr("leadrouter_normalize_cache_entries{cache=\"company_name\"}"));
}

// Over real HTTP: the whole registry by default; ?name= narrows a scrape to the families named
// (what scripts/bench.sh polls every 50 ms), an unknown name to nothing.
TEST(MetricsTest, TheServerServesTheRegistryAndNarrowsItByName) {
  PipelineMetrics metrics;
  metrics.SetConsumerLag({{"leads.inbound", 0, 7}});
  auto server = MetricsServer::Start("127.0.0.1:0", metrics.registry());
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();

  auto all = testing::HttpGet("127.0.0.1", port, "/metrics");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(*all, HasSubstr("leadrouter_events_consumed_total 0\n"));
  EXPECT_THAT(*all, HasSubstr("leadrouter_consumer_lag_messages{"));

  auto two = testing::HttpGet(
      "127.0.0.1", port,
      "/metrics?name=leadrouter_events_consumed_total&name=leadrouter_consumer_lag_messages");
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_THAT(*two, HasSubstr("# TYPE leadrouter_events_consumed_total counter\n"));
  EXPECT_THAT(*two, HasSubstr("leadrouter_consumer_lag_messages{"));
  EXPECT_THAT(*two, Not(HasSubstr("leadrouter_events_outcome_total")));
  EXPECT_EQ(Lines(*two, "# TYPE "), 2u);

  auto none = testing::HttpGet("127.0.0.1", port, "/metrics?name=no_such_family");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, "");
  // Other parameters do not narrow anything.
  auto other = testing::HttpGet("127.0.0.1", port, "/metrics?format=text");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(Lines(*other, "# TYPE "), Lines(*all, "# TYPE "));
}

}  // namespace
}  // namespace leadrouter::metrics
