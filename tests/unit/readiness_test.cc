// Readiness and DependencyProbe: the verdict that grpc.health.v1 and /readyz report.
#include "leadrouter/pipeline/readiness.h"

#include <gtest/gtest.h>

#include <vector>

#include "leadrouter/core/watchdog.h"

namespace leadrouter::pipeline {
namespace {

TEST(ReadinessTest, NotReadyUntilEveryInitiallyFailingConditionHolds) {
  std::vector<bool> changes;
  Readiness readiness({"kafka", "redis"}, [&](bool ready) { changes.push_back(ready); });
  EXPECT_FALSE(readiness.ready());
  EXPECT_EQ(readiness.Describe(), "kafka: not checked yet; redis: not checked yet");
  readiness.Set("kafka", true);
  EXPECT_FALSE(readiness.ready());
  readiness.Set("redis", true);
  EXPECT_TRUE(readiness.ready());
  EXPECT_EQ(readiness.Describe(), "");
  EXPECT_EQ(changes, std::vector<bool>{true});
}

TEST(ReadinessTest, AnyFailingConditionMakesItNotReadyWithTheReason) {
  std::vector<bool> changes;
  Readiness readiness({}, [&](bool ready) { changes.push_back(ready); });
  EXPECT_TRUE(readiness.ready());
  readiness.Set("consumption", false, "paused");
  readiness.Set("redis", false, "timed out");
  readiness.Set("redis", false, "connection refused");  // reason updated, no new change
  EXPECT_FALSE(readiness.ready());
  EXPECT_EQ(readiness.Describe(), "consumption: paused; redis: connection refused");
  readiness.Set("consumption", true);
  EXPECT_FALSE(readiness.ready());
  readiness.Set("redis", true);
  EXPECT_TRUE(readiness.ready());
  EXPECT_EQ(changes, (std::vector<bool>{false, true}));
}

TEST(DependencyProbeTest, EachCheckSetsItsCondition) {
  Readiness readiness({"kafka", "redis"});
  absl::Status kafka = absl::OkStatus();
  absl::Status redis = absl::UnavailableError("PING timed out");
  DependencyProbe probe(readiness,
                        {{"kafka", [&] { return kafka; }}, {"redis", [&] { return redis; }}});
  probe.RunOnce();
  EXPECT_FALSE(readiness.ready());
  EXPECT_EQ(readiness.Describe(), "redis: PING timed out");
  redis = absl::OkStatus();
  probe.RunOnce();
  EXPECT_TRUE(readiness.ready());
  kafka = absl::UnavailableError("all brokers down");
  probe.RunOnce();
  EXPECT_EQ(readiness.Describe(), "kafka: all brokers down");
}

TEST(WatchdogTest, FiresOnlyWhenNotDisarmedInTime) {
  std::atomic<int> fired{0};
  {
    core::Watchdog watchdog;
    watchdog.Arm(std::chrono::milliseconds(20), [&] { fired.fetch_add(1); });
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (fired.load() == 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  EXPECT_EQ(fired.load(), 1);
  {
    core::Watchdog watchdog;
    watchdog.Arm(std::chrono::hours(1), [&] { fired.fetch_add(1); });
    watchdog.Disarm();
  }  // the destructor joins at once: disarmed
  EXPECT_EQ(fired.load(), 1);
}

}  // namespace
}  // namespace leadrouter::pipeline
