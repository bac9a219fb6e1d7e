// pipeline::LeadSeriesSpaceOf: the label values of the lead metrics a config bounds, which the
// daemon creates at 0 before their first increment.
#include "leadrouter/pipeline/observability.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "leadrouter/config/config.h"

namespace leadrouter::pipeline {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

config::Config Parse(const std::string& yaml) {
  auto config = config::ParseConfig("kafka: {bootstrap_servers: 127.0.0.1:9092}\n" + yaml);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : config::Config{};
}

TEST(LeadSeriesSpaceTest, TerritoriesWithTheirOverflowChains) {
  const config::Config config = Parse(R"(
reps: [{id: ada}, {id: grace}, {id: linus}]
pools:
  - {name: west, members: [ada], overflow: backup}
  - {name: backup, members: [grace], overflow: last}
  - {name: last, members: [linus]}
  - {name: unused, members: [linus]}
territories:
  - {name: us, match: {countries: [US]}, pool: west}
  - {name: rest, pool: last}
metrics: {campaigns: [q4, spring]}
qualification:
  requirements: [{name: us-only, field: company.country, equals: US}]
)");
  const auto space = LeadSeriesSpaceOf(config);
  // Every decision's (territory, pool): a pool of the territory's overflow chain, or none
  // (unassigned); ("", "") for rep-sourced and account-owner leads. No pair with "unused".
  EXPECT_THAT(
      space.territory_pools,
      UnorderedElementsAre(Pair("", ""), Pair("us", ""), Pair("us", "west"), Pair("us", "backup"),
                           Pair("us", "last"), Pair("rest", ""), Pair("rest", "last")));
  EXPECT_THAT(space.campaigns, UnorderedElementsAre("q4", "spring", "other", "none"));
  EXPECT_THAT(space.events,
              UnorderedElementsAre("assigned", "accepted", "returned", "expired", "converted",
                                   "duplicate", "unassigned", "recycled"));
  EXPECT_EQ(space.source_kinds.size(), 6u);
  EXPECT_THAT(space.source_kinds, Contains("REP_SOURCED"));
  EXPECT_THAT(space.source_kind_names, Contains("LEAD_SOURCE_KIND_REP_SOURCED"));
  EXPECT_THAT(space.return_reasons, Contains("bad_fit"));
  EXPECT_EQ(space.return_reasons.size(), 7u);
  EXPECT_THAT(space.reps, ElementsAre("ada", "grace", "linus"));
  EXPECT_THAT(space.deadletter_reasons, Contains("missing_field"));
  EXPECT_THAT(space.requirements, ElementsAre("us-only"));
}

TEST(LeadSeriesSpaceTest, WithoutTerritoriesTheFirstPoolsChainTakesEveryLead) {
  const config::Config config = Parse(R"(
reps: [{id: ada}, {id: grace}]
pools:
  - {name: main, members: [ada], overflow: spill}
  - {name: spill, members: [grace]}
)");
  EXPECT_THAT(LeadSeriesSpaceOf(config).territory_pools,
              UnorderedElementsAre(Pair("", ""), Pair("", "main"), Pair("", "spill")));
}

TEST(LeadSeriesSpaceTest, TheExampleConfigFitsUnderTheCap) {
  setenv("LEADROUTER_DEDUPE_KEY", "observability-test-dedupe-key-0123", 1);
  setenv("HUBSPOT_PRIVATE_APP_TOKEN", "test-hubspot-token", 1);
  auto config = config::LoadConfigFile(std::string(LEADROUTER_SOURCE_DIR) +
                                       "/deploy/config/leadrouter.example.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  metrics::PipelineMetrics metrics;
  const auto report = metrics.PrecreateLeadSeries(LeadSeriesSpaceOf(*config));
  EXPECT_GT(report.wanted, 1000u);
  EXPECT_EQ(report.created, report.wanted);
}

}  // namespace
}  // namespace leadrouter::pipeline
