// routing::MeasureLoad: the fairness deviation and open-lead counts the daemon exports.
#include <gtest/gtest.h>

#include "leadrouter/routing/load.h"

namespace leadrouter::routing {
namespace {

RoutingRules Rules() {
  RoutingRules rules;
  for (const char* id : {"ada", "grace", "linus", "solo"}) {
    RepProfile rep;
    rep.id = id;
    rules.reps.push_back(rep);
  }
  auto pool = [](const std::string& name, std::vector<PoolMember> members) {
    Pool p;
    p.name = name;
    p.members = std::move(members);
    return p;
  };
  rules.pools = {pool("weighted", {{"ada", 2}, {"grace", 1}, {"linus", 1}}),
                 pool("single", {{"solo", 1}}), pool("shared", {{"ada", 1}, {"solo", 1}})};
  return rules;
}

PoolLoad PoolOf(const LoadReport& report, const std::string& name) {
  for (const PoolLoad& pool : report.pools) {
    if (pool.pool == name) return pool;
  }
  ADD_FAILURE() << "no pool " << name;
  return {};
}

TEST(MeasureLoadTest, EmptyStateIsFairAndIdle) {
  const LoadReport report = MeasureLoad(Rules(), RoutingState{});
  ASSERT_EQ(report.pools.size(), 3u);
  EXPECT_EQ(report.pools[0].pool, "weighted");
  for (const PoolLoad& pool : report.pools) {
    EXPECT_EQ(pool.fairness_deviation, 0) << pool.pool;
    EXPECT_EQ(pool.assigned, 0);
    EXPECT_EQ(pool.open_leads, 0);
  }
  ASSERT_EQ(report.reps.size(), 4u);
  EXPECT_EQ(report.reps[0].rep, "ada");
  for (const RepOpenLeads& rep : report.reps) EXPECT_EQ(rep.open_leads, 0);
}

TEST(MeasureLoadTest, CountsExactlyOnShareHaveNoDeviation) {
  RoutingState state;
  state.pools["weighted"].count = {{"ada", 20}, {"grace", 10}, {"linus", 10}};
  const LoadReport report = MeasureLoad(Rules(), state);
  const PoolLoad weighted = PoolOf(report, "weighted");
  EXPECT_EQ(weighted.assigned, 40);
  EXPECT_DOUBLE_EQ(weighted.fairness_deviation, 0);
}

TEST(MeasureLoadTest, DeviationIsTheLargestShareGapOfAnyMember) {
  RoutingState state;
  // Targets 0.5 / 0.25 / 0.25; actual 0.5 / 0.4 / 0.1: grace and linus are both 0.15 off.
  state.pools["weighted"].count = {{"ada", 5}, {"grace", 4}, {"linus", 1}};
  EXPECT_DOUBLE_EQ(PoolOf(MeasureLoad(Rules(), state), "weighted").fairness_deviation, 0.15);

  // One member took everything: 1 - 0.5 for ada (and 0.25 for the others).
  state.pools["weighted"].count = {{"ada", 7}};
  EXPECT_DOUBLE_EQ(PoolOf(MeasureLoad(Rules(), state), "weighted").fairness_deviation, 0.5);
  state.pools["weighted"].count = {{"linus", 3}};
  EXPECT_DOUBLE_EQ(PoolOf(MeasureLoad(Rules(), state), "weighted").fairness_deviation, 0.75);
}

TEST(MeasureLoadTest, ASingleMemberPoolIsAlwaysFair) {
  RoutingState state;
  state.pools["single"].count = {{"solo", 9}};
  EXPECT_EQ(PoolOf(MeasureLoad(Rules(), state), "single").fairness_deviation, 0);
}

TEST(MeasureLoadTest, CountersOfRemovedMembersAndPoolsAreIgnored) {
  RoutingState state;
  // "gone" left the pool (config reload): its leads are not part of the members' shares.
  state.pools["weighted"].count = {{"ada", 2}, {"grace", 1}, {"linus", 1}, {"gone", 100}};
  state.pools["removed-pool"].count = {{"ada", 50}};
  state.reps["gone"].open_leads = 9;
  const LoadReport report = MeasureLoad(Rules(), state);
  EXPECT_EQ(PoolOf(report, "weighted").assigned, 4);
  EXPECT_DOUBLE_EQ(PoolOf(report, "weighted").fairness_deviation, 0);
  EXPECT_EQ(report.pools.size(), 3u);
  EXPECT_EQ(report.reps.size(), 4u);
}

TEST(MeasureLoadTest, OpenLeadsPerRepAndPerPoolOfItsMembers) {
  RoutingState state;
  state.reps["ada"].open_leads = 3;
  state.reps["grace"].open_leads = 1;
  state.reps["solo"].open_leads = 4;
  state.reps["linus"].open_leads = -2;  // a repaired counter never makes a negative gauge
  const LoadReport report = MeasureLoad(Rules(), state);
  EXPECT_EQ(report.reps[0].open_leads, 3);
  EXPECT_EQ(report.reps[2].open_leads, 0);
  EXPECT_EQ(report.reps[3].open_leads, 4);
  EXPECT_EQ(PoolOf(report, "weighted").open_leads, 4);
  EXPECT_EQ(PoolOf(report, "single").open_leads, 4);
  EXPECT_EQ(PoolOf(report, "shared").open_leads, 7) << "ada counts in both of her pools";
}

TEST(MeasureLoadTest, DeviationStaysBelowOneLeadOverAssignedUnderTheEngine) {
  // The engine's own sequence: at every prefix each member is within one lead of its share, so
  // the exported deviation is below 1/assigned.
  RoutingRules rules = Rules();
  rules.pools.resize(1);
  auto engine = Engine::Create(rules);
  ASSERT_TRUE(engine.ok()) << engine.status();
  RoutingState state;
  const core::TimePoint now{};
  for (int n = 1; n <= 60; ++n) {
    ASSERT_TRUE((*engine)->Route(LeadFacts{}, now, state).rep_id.has_value());
    const LoadReport report = MeasureLoad(rules, state);
    const PoolLoad& pool = report.pools[0];
    ASSERT_EQ(pool.assigned, n);
    EXPECT_LT(pool.fairness_deviation, 1.0 / n) << "after " << n << " leads";
  }
}

}  // namespace
}  // namespace leadrouter::routing
