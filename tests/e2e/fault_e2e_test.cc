// Fault tests: the real binaries as processes, real faults (kill -9, Redis down, Kafka brokers
// down, a second instance dying, poison messages), and an audit of the outcome afterwards:
// every event exactly one outcome, no lead two reps, counters consistent with the records.
// Bounded in time and traffic, loopback only.
#include "fault_fixture.h"

namespace leadrouter {
namespace {

using namespace std::chrono_literals;

class FaultTest : public testing::FaultFixture {};

TEST_F(FaultTest, KillNineMidStreamThenRestart) {
  const int n = 50000;
  StartRouter(0);
  const std::vector<std::string> valid = Publish(n);
  ASSERT_TRUE(WaitForRecords(n / 5, 300s)) << "no progress before the kill";
  KillRouter(0);
  StartRouter(0);
  ASSERT_TRUE(WaitForRecords(valid.size(), 600s));
  ExpectExactlyOnce(valid);
}

TEST_F(FaultTest, RedisDownForSecondsThenBackWithItsData) {
  StartRouter(0);
  const std::vector<std::string> valid = Publish(6000);
  ASSERT_TRUE(WaitForRecords(1000, 120s));
  ASSERT_TRUE(redis_->Terminate(10s).ok());
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(Metric(0, "leadrouter_consumer_paused"), 1) << "backpressure while Redis is down";
  StartRedis();
  ASSERT_TRUE(WaitForRecords(valid.size(), 180s));
  EXPECT_TRUE(routers_[0]->Running()) << "recovered without a restart";
  EXPECT_EQ(Metric(0, "leadrouter_consumer_paused"), 0);
  ExpectExactlyOnce(valid);
}

TEST_F(FaultTest, KafkaBrokersDownThenUp) {
  StartRouter(0);
  const std::vector<std::string> valid = Publish(6000);
  ASSERT_TRUE(WaitForRecords(1000, 120s));
  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR1), 0);
  ASSERT_TRUE(kafka_->WaitForLine("brokers down", 10s).ok());
  std::this_thread::sleep_for(8s);
  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR2), 0);
  ASSERT_TRUE(kafka_->WaitForLine("brokers up", 10s).ok());
  ASSERT_TRUE(WaitForRecords(valid.size(), 180s));
  EXPECT_TRUE(routers_[0]->Running());
  ExpectExactlyOnce(valid);
}

TEST_F(FaultTest, TwoInstancesOneKilledTheOtherTakesOver) {
  StartRouter(0);
  StartRouter(1);
  const std::vector<std::string> valid = Publish(20000);
  ASSERT_TRUE(WaitForRecords(3000, 180s));
  KillRouter(1);
  ASSERT_TRUE(WaitForRecords(valid.size(), 300s));
  ExpectExactlyOnce(valid);
}

TEST_F(FaultTest, PoisonMessagesAreDeadLetteredAndTheRestRouted) {
  StartRouter(0);
  const std::vector<std::string> valid = Publish(3000, /*poison_every=*/100);
  ASSERT_EQ(valid.size(), 2970u);
  ASSERT_TRUE(WaitForRecords(valid.size(), 180s));
  const auto until = std::chrono::steady_clock::now() + 60s;
  // The batch's consumed count is added just before its outcomes: wait for both.
  while ((Metric(0, "leadrouter_events_consumed_total") < 3000 ||
          Metric(0, "leadrouter_events_outcome_total{outcome=\"assigned\"}") < 2970) &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(Metric(0, "leadrouter_events_consumed_total"), 3000);
  EXPECT_EQ(Metric(0, "leadrouter_events_deadlettered_total{reason=\"undecodable\"}"), 30);
  EXPECT_EQ(Metric(0, "leadrouter_events_outcome_total{outcome=\"assigned\"}"), 2970);
  ExpectExactlyOnce(valid);
}

}  // namespace
}  // namespace leadrouter
