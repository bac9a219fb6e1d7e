#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "leadrouter/routing/round_robin.h"
#include "leadrouter/routing/router.h"

namespace leadrouter::routing {
namespace {

const std::vector<std::string> kReps = {"ada", "grace", "linus"};

TEST(RoundRobinTest, EveryPrefixIsBalancedWithinOne) {
  RoundRobin rr(kReps);
  std::map<std::string, int> counts;
  for (int64_t slot = 0; slot < 1000; ++slot) {
    const RotationDecision d = rr.Pick(slot);
    EXPECT_EQ(d.slot, slot);
    EXPECT_EQ(d.next_slot, slot + 1);
    ++counts[d.rep_id];
    int lo = INT32_MAX, hi = 0;
    for (const auto& rep : kReps) {
      lo = std::min(lo, counts[rep]);
      hi = std::max(hi, counts[rep]);
    }
    ASSERT_LE(hi - lo, 1) << "after slot " << slot;
  }
  for (const auto& rep : kReps) EXPECT_GE(counts[rep], 333);
}

TEST(RoundRobinTest, FollowsConfigOrderAndWraps) {
  RoundRobin rr(kReps);
  EXPECT_EQ(rr.Pick(0).rep_id, "ada");
  EXPECT_EQ(rr.Pick(1).rep_id, "grace");
  EXPECT_EQ(rr.Pick(2).rep_id, "linus");
  EXPECT_EQ(rr.Pick(3).rep_id, "ada");
  EXPECT_EQ(rr.Pick(INT64_MAX - 1).rep_id, kReps[(INT64_MAX - 1) % 3]);
}

TEST(RoundRobinTest, CorruptNegativeSlotStaysInRange) {
  RoundRobin rr(kReps);
  EXPECT_EQ(rr.Pick(-1).rep_id, "linus");
  EXPECT_EQ(rr.Pick(-3).rep_id, "ada");
}

TEST(RoundRobinTest, ReasonExplainsTheSlot) {
  RoundRobin rr(kReps);
  const RotationDecision d = rr.Pick(4);
  EXPECT_NE(d.reason.find("slot 4"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("3 reps"), std::string::npos) << d.reason;
}

TEST(RouterTest, RepSourcedLeadStaysWithItsRepAndKeepsTheRotation) {
  Router router(kReps);
  const Route own = router.Decide({true, "linus"}, 0);
  EXPECT_EQ(own.rep_id, "linus");
  EXPECT_FALSE(own.took_rotation_slot);
  EXPECT_NE(own.reason.find("rep-sourced"), std::string::npos);
  // The next pooled lead still gets slot 0's rep: self-sourcing costs the pool nothing.
  const Route next = router.Decide({false, ""}, 0);
  EXPECT_EQ(next.rep_id, "ada");
  EXPECT_TRUE(next.took_rotation_slot);
}

TEST(RouterTest, RepSourcedByUnknownRepFallsBackToRotationAndSaysSo) {
  Router router(kReps);
  const Route r = router.Decide({true, "someone-else"}, 1);
  EXPECT_EQ(r.rep_id, "grace");
  EXPECT_TRUE(r.took_rotation_slot);
  EXPECT_NE(r.reason.find("someone-else"), std::string::npos);
}

}  // namespace
}  // namespace leadrouter::routing
