// The kafka adapter against a real Kafka-protocol broker: librdkafka's mock cluster, in process.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "leadrouter/kafka/consumer.h"
#include "leadrouter/kafka/message.h"
#include "leadrouter/kafka/mock_cluster.h"
#include "leadrouter/kafka/producer.h"

namespace leadrouter::kafka {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAreArray;

// Group joins on the mock take a few seconds; generous so a loaded machine does not flake.
constexpr milliseconds kReceiveTimeout = seconds(30);

std::string TestName() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

class KafkaClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = MockCluster::Create();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    topic_ = "topic." + TestName();
    ASSERT_TRUE(cluster_->CreateTopic(topic_, 2).ok());
    auto producer = Producer::Create({.bootstrap_servers = cluster_->bootstrap_servers()});
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *std::move(producer);
  }

  ConsumerOptions Options(const std::string& group) const {
    return {.bootstrap_servers = cluster_->bootstrap_servers(),
            .group_id = group,
            .topics = {topic_},
            // The mock delays a rebalance after a member leaves by session.timeout.ms - 1 s.
            .extra = {{"session.timeout.ms", "6000"}}};
  }

  std::unique_ptr<Consumer> NewConsumer(const std::string& group) const {
    auto consumer = Consumer::Create(Options(group));
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    return consumer.ok() ? *std::move(consumer) : nullptr;
  }

  std::vector<OutgoingMessage> MakeMessages(int count) const {
    std::vector<OutgoingMessage> messages;
    for (int i = 0; i < count; ++i) {
      messages.push_back({.topic = topic_,
                          .key = "key-" + std::to_string(i),
                          .value = "value-" + std::to_string(i),
                          .headers = {{"content-type", "application/json"},
                                      {"seq", std::to_string(i)},
                                      {"dup", "first"},
                                      {"dup", "second"},
                                      {"empty", ""}}});
    }
    return messages;
  }

  // Polls until `count` records arrived or the timeout passed.
  static std::vector<ConsumedMessage> Receive(Consumer& consumer, size_t count,
                                              milliseconds timeout = kReceiveTimeout) {
    std::vector<ConsumedMessage> received;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto batch = consumer.PollBatch(count - received.size(), milliseconds(500));
      EXPECT_TRUE(batch.ok()) << batch.status();
      if (!batch.ok()) break;
      received.insert(received.end(), batch->begin(), batch->end());
    }
    return received;
  }

  static std::vector<std::string> Keys(const std::vector<ConsumedMessage>& messages) {
    std::vector<std::string> keys;
    for (const ConsumedMessage& message : messages) keys.push_back(message.key);
    return keys;
  }

  std::unique_ptr<MockCluster> cluster_;
  std::unique_ptr<Producer> producer_;
  std::string topic_;
};

TEST_F(KafkaClientTest, ProducedBatchArrivesWithKeysValuesAndHeaders) {
  const std::vector<OutgoingMessage> sent = MakeMessages(40);
  ASSERT_TRUE(producer_->ProduceAndWait(sent, seconds(10)).ok());

  auto consumer = NewConsumer("group." + TestName());
  ASSERT_NE(consumer, nullptr);
  const std::vector<ConsumedMessage> received = Receive(*consumer, sent.size());
  ASSERT_EQ(received.size(), sent.size());

  std::map<std::string, const ConsumedMessage*> by_key;
  std::set<int32_t> partitions;
  for (const ConsumedMessage& message : received) {
    EXPECT_TRUE(by_key.emplace(message.key, &message).second) << "duplicate " << message.key;
    partitions.insert(message.partition);
    EXPECT_EQ(message.topic, topic_);
    EXPECT_GT(message.timestamp_ms, 0);
  }
  EXPECT_EQ(partitions, (std::set<int32_t>{0, 1})) << "40 keys should hash to both partitions";
  for (const OutgoingMessage& expected : sent) {
    ASSERT_TRUE(by_key.contains(expected.key)) << expected.key;
    const ConsumedMessage& got = *by_key[expected.key];
    EXPECT_EQ(got.value, expected.value);
    EXPECT_EQ(got.headers, expected.headers);  // order and repeats preserved
    EXPECT_EQ(got.HeaderValue("dup"), "first");
    EXPECT_EQ(got.HeaderValue("empty"), "");
    EXPECT_EQ(got.HeaderValue("missing"), std::nullopt);
  }
  // Within a partition, offsets are consecutive from 0: nothing lost, nothing duplicated.
  for (int32_t partition : partitions) {
    std::vector<int64_t> offsets;
    for (const ConsumedMessage& message : received) {
      if (message.partition == partition) offsets.push_back(message.offset);
    }
    std::sort(offsets.begin(), offsets.end());
    for (size_t i = 0; i < offsets.size(); ++i) EXPECT_EQ(offsets[i], static_cast<int64_t>(i));
  }
}

// Issue 16: a null key is published and consumed as null, distinct from an empty key (dead
// letters of keyless inputs stay keyless).
TEST_F(KafkaClientTest, NullAndEmptyKeysStayDistinct) {
  std::vector<OutgoingMessage> sent(2);
  for (size_t i = 0; i < sent.size(); ++i) {
    sent[i].topic = topic_;
    sent[i].value = absl::StrCat("v", i);
  }
  sent[0].null_key = true;
  ASSERT_TRUE(producer_->ProduceAndWait(sent, seconds(10)).ok());
  auto consumer = NewConsumer("group." + TestName());
  ASSERT_NE(consumer, nullptr);
  const std::vector<ConsumedMessage> received = Receive(*consumer, sent.size());
  ASSERT_EQ(received.size(), sent.size());
  for (const ConsumedMessage& message : received) {
    EXPECT_EQ(message.key, "");
    EXPECT_EQ(message.null_key, message.value == "v0") << message.value;
  }
}

TEST_F(KafkaClientTest, NewMemberGetsExactlyTheUncommittedRemainder) {
  const std::vector<OutgoingMessage> sent = MakeMessages(30);
  ASSERT_TRUE(producer_->ProduceAndWait(sent, seconds(10)).ok());
  const std::string group = "group." + TestName();

  std::vector<std::string> expected_remainder;
  {
    auto first = NewConsumer(group);
    ASSERT_NE(first, nullptr);
    const std::vector<ConsumedMessage> received = Receive(*first, sent.size());
    ASSERT_EQ(received.size(), sent.size());

    // Per partition, commit the lower half only (by offset).
    std::map<int32_t, std::vector<ConsumedMessage>> by_partition;
    for (const ConsumedMessage& message : received)
      by_partition[message.partition].push_back(message);
    ASSERT_EQ(by_partition.size(), 2u);
    std::vector<ConsumedMessage> processed;
    for (auto& [partition, messages] : by_partition) {
      std::sort(messages.begin(), messages.end(),
                [](const auto& a, const auto& b) { return a.offset < b.offset; });
      const size_t committed = messages.size() / 2;
      for (size_t i = 0; i < messages.size(); ++i) {
        if (i < committed) {
          processed.push_back(messages[i]);
        } else {
          expected_remainder.push_back(messages[i].key);
        }
      }
    }
    // Commit in shuffled order: the highest offset per partition must win, not the last seen.
    std::reverse(processed.begin(), processed.end());
    ASSERT_TRUE(first->Commit(processed).ok());
    ASSERT_TRUE(first->Commit({}).ok());
    first->Close();
    first->Close();  // idempotent
    EXPECT_EQ(first->PollBatch(1, milliseconds(0)).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }

  auto second = NewConsumer(group);
  ASSERT_NE(second, nullptr);
  const auto started = std::chrono::steady_clock::now();
  std::vector<ConsumedMessage> redelivered = Receive(*second, expected_remainder.size());
  const auto joined_after = std::chrono::steady_clock::now() - started;
  // Anything beyond the remainder (a committed record redelivered) would show up here.
  std::vector<ConsumedMessage> extra = Receive(*second, 1, seconds(2));
  EXPECT_THAT(Keys(extra), IsEmpty());
  EXPECT_THAT(Keys(redelivered), UnorderedElementsAreArray(expected_remainder));
  std::printf(
      "second member received the remainder after %lld ms\n",
      static_cast<long long>(std::chrono::duration_cast<milliseconds>(joined_after).count()));
}

TEST_F(KafkaClientTest, PollBatchReturnsEmptyAtMaxWaitOnIdleTopic) {
  auto consumer = NewConsumer("group." + TestName());
  ASSERT_NE(consumer, nullptr);
  for (milliseconds wait : {milliseconds(0), milliseconds(300), milliseconds(1000)}) {
    const auto started = std::chrono::steady_clock::now();
    auto batch = consumer->PollBatch(100, wait);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(batch.ok()) << batch.status();
    EXPECT_THAT(*batch, IsEmpty());
    EXPECT_GE(elapsed, wait);
    EXPECT_LT(elapsed, wait + milliseconds(500)) << "waited " << wait.count() << " ms";
  }
}

TEST_F(KafkaClientTest, PollBatchHonoursMaxMessages) {
  const std::vector<OutgoingMessage> sent = MakeMessages(10);
  ASSERT_TRUE(producer_->ProduceAndWait(sent, seconds(10)).ok());
  auto consumer = NewConsumer("group." + TestName());
  ASSERT_NE(consumer, nullptr);

  // Wait for the first record (the group join), then check the cap on what is buffered.
  std::vector<ConsumedMessage> received = Receive(*consumer, 1);
  ASSERT_EQ(received.size(), 1u);
  auto batch = consumer->PollBatch(3, seconds(10));
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->size(), 3u);
  received.insert(received.end(), batch->begin(), batch->end());
  const std::vector<ConsumedMessage> rest = Receive(*consumer, 6);
  received.insert(received.end(), rest.begin(), rest.end());

  std::vector<std::string> expected;
  for (const OutgoingMessage& message : sent) expected.push_back(message.key);
  EXPECT_THAT(Keys(received), UnorderedElementsAreArray(expected));
}

// A zero linger returns the first record with whatever else is at hand instead of waiting out
// max_wait for a full batch: what keeps latency low at low load.
TEST_F(KafkaClientTest, PollBatchWithoutLingerReturnsWhatIsAtHand) {
  auto consumer = NewConsumer("group." + TestName());
  ASSERT_NE(consumer, nullptr);
  ASSERT_TRUE(producer_->ProduceAndWait(MakeMessages(5), seconds(10)).ok());

  std::vector<ConsumedMessage> received;
  const auto started = std::chrono::steady_clock::now();
  while (received.size() < 5 && std::chrono::steady_clock::now() - started < seconds(20)) {
    const auto poll_started = std::chrono::steady_clock::now();
    auto batch = consumer->PollBatch(100, seconds(20), milliseconds(0));
    const auto elapsed = std::chrono::steady_clock::now() - poll_started;
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_THAT(*batch, Not(IsEmpty())) << "returned empty before its 20 s max_wait";
    // The group join and the first fetch can take a few seconds; waiting for 100 records (or
    // for max_wait) would take the full 20.
    EXPECT_LT(elapsed, seconds(15));
    received.insert(received.end(), batch->begin(), batch->end());
  }
  EXPECT_EQ(received.size(), 5u);
}

// DESIGN.md §5: librdkafka 2.0.2's batch consume can lose messages around pause/resume. Our
// PollBatch is built from single polls; pausing and resuming mid-stream loses and duplicates
// nothing, and a paused consumer that keeps polling stays in its group.
TEST_F(KafkaClientTest, PauseAndResumeMidStreamLoseNothing) {
  std::vector<OutgoingMessage> sent = MakeMessages(40);
  const std::vector<OutgoingMessage> first(sent.begin(), sent.begin() + 20);
  const std::vector<OutgoingMessage> second(sent.begin() + 20, sent.end());
  ASSERT_TRUE(producer_->ProduceAndWait(first, seconds(10)).ok());
  auto consumer = NewConsumer("group." + TestName());
  ASSERT_NE(consumer, nullptr);
  std::vector<ConsumedMessage> received = Receive(*consumer, 5);
  ASSERT_GE(received.size(), 5u);

  ASSERT_TRUE(consumer->Pause().ok());
  EXPECT_TRUE(consumer->paused());
  EXPECT_TRUE(consumer->Pause().ok()) << "idempotent";
  // While paused: more data arrives, we keep polling (what was fetched before the pause may
  // still come out and must be kept), for longer than a heartbeat interval.
  ASSERT_TRUE(producer_->ProduceAndWait(second, seconds(10)).ok());
  const auto paused_until = std::chrono::steady_clock::now() + seconds(4);
  size_t during_pause = 0;
  while (std::chrono::steady_clock::now() < paused_until) {
    auto batch = consumer->PollBatch(100, milliseconds(200));
    ASSERT_TRUE(batch.ok()) << batch.status();
    during_pause += batch->size();
    received.insert(received.end(), batch->begin(), batch->end());
  }
  EXPECT_LE(received.size(), first.size()) << "nothing produced after the pause was fetched";

  ASSERT_TRUE(consumer->Resume().ok());
  EXPECT_FALSE(consumer->paused());
  const std::vector<ConsumedMessage> rest = Receive(*consumer, sent.size() - received.size());
  received.insert(received.end(), rest.begin(), rest.end());
  std::vector<std::string> expected;
  for (const OutgoingMessage& message : sent) expected.push_back(message.key);
  EXPECT_THAT(Keys(received), UnorderedElementsAreArray(expected))
      << during_pause << " arrived while paused";
}

// A partition taken away while its consumer is paused must not come back paused after that
// consumer resumed: librdkafka keeps a partition's pause flag across unassign/assign.
TEST_F(KafkaClientTest, PartitionLostWhilePausedComesBackFetching) {
  const std::string group = "group." + TestName();
  std::vector<OutgoingMessage> sent = MakeMessages(40);
  const std::vector<OutgoingMessage> first(sent.begin(), sent.begin() + 20);
  const std::vector<OutgoingMessage> second(sent.begin() + 20, sent.end());
  ASSERT_TRUE(producer_->ProduceAndWait(first, seconds(10)).ok());
  auto a = NewConsumer(group);
  ASSERT_NE(a, nullptr);
  const std::vector<ConsumedMessage> before = Receive(*a, first.size());
  ASSERT_EQ(before.size(), first.size());
  ASSERT_TRUE(a->Commit(before).ok());
  ASSERT_TRUE(a->Pause().ok());

  // b joins and takes one partition from the paused a.
  auto b = NewConsumer(group);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(producer_->ProduceAndWait(second, seconds(10)).ok());
  std::vector<ConsumedMessage> by_b;
  std::vector<ConsumedMessage> by_a_paused;
  const auto until = std::chrono::steady_clock::now() + kReceiveTimeout;
  while (by_b.empty() && std::chrono::steady_clock::now() < until) {
    for (auto* consumer : {a.get(), b.get()}) {
      auto batch = consumer->PollBatch(100, milliseconds(100));
      ASSERT_TRUE(batch.ok()) << batch.status();
      auto& into = consumer == b.get() ? by_b : by_a_paused;
      into.insert(into.end(), batch->begin(), batch->end());
    }
  }
  ASSERT_FALSE(by_b.empty()) << "b never got a partition";
  EXPECT_LT(by_b.size(), second.size()) << "b should hold one of the two partitions";
  EXPECT_THAT(Keys(by_a_paused), IsEmpty()) << "a is paused";

  // a resumes what it still has; b leaves without committing, so its partition returns to a,
  // which must fetch it (from the last commit) without being told to resume again.
  ASSERT_TRUE(a->Resume().ok());
  b->Close();
  const std::vector<ConsumedMessage> after = Receive(*a, second.size());
  std::vector<std::string> expected;
  for (const OutgoingMessage& message : second) expected.push_back(message.key);
  EXPECT_THAT(Keys(after), UnorderedElementsAreArray(expected));
}

// Sums the known lags; -1 if any assigned partition's lag is unknown.
int64_t TotalLag(const std::vector<PartitionLag>& lags) {
  int64_t total = 0;
  for (const PartitionLag& lag : lags) {
    if (!lag.messages) return -1;
    total += *lag.messages;
  }
  return total;
}

TEST_F(KafkaClientTest, LagIsHighWatermarkMinusPositionPerAssignedPartition) {
  auto consumer = NewConsumer("group." + TestName());
  ASSERT_NE(consumer, nullptr);
  auto before_join = consumer->Lag();
  ASSERT_TRUE(before_join.ok()) << before_join.status();
  EXPECT_THAT(*before_join, IsEmpty()) << "nothing assigned yet";

  ASSERT_TRUE(producer_->ProduceAndWait(MakeMessages(10), seconds(10)).ok());
  ASSERT_EQ(Receive(*consumer, 10).size(), 10u);
  auto caught_up = consumer->Lag();
  ASSERT_TRUE(caught_up.ok()) << caught_up.status();
  ASSERT_EQ(caught_up->size(), 2u) << "both partitions are assigned to the only member";
  for (const PartitionLag& lag : *caught_up) {
    EXPECT_EQ(lag.topic, topic_);
    EXPECT_EQ(lag.messages, 0) << "partition " << lag.partition;
  }

  // Five more, one handed out: the other four are lag once the fetcher has seen the new high
  // watermarks (it fetches in the background, without our polls).
  ASSERT_TRUE(producer_->ProduceAndWait(MakeMessages(5), seconds(10)).ok());
  auto one = consumer->PollBatch(1, seconds(10));
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->size(), 1u);
  int64_t total = -1;
  for (const auto until = std::chrono::steady_clock::now() + seconds(10);
       std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(milliseconds(50))) {
    auto lags = consumer->Lag();
    ASSERT_TRUE(lags.ok()) << lags.status();
    total = TotalLag(*lags);
    if (total == 4) break;
  }
  EXPECT_EQ(total, 4);

  consumer->Close();
  EXPECT_EQ(consumer->Lag().status().code(), absl::StatusCode::kFailedPrecondition);
}

// WarmUp fetches the topic's metadata (which saves its first message about a second; the load
// generator relies on it, and bench.sh shows the effect, which is too close to noise for a test).
TEST_F(KafkaClientTest, WarmUpFetchesAnExistingTopicAndThenProduces) {
  ASSERT_TRUE(producer_->WarmUp(topic_, seconds(10)).ok());
  ASSERT_TRUE(producer_->ProduceAndWait(MakeMessages(3), seconds(10)).ok());
  auto consumer = NewConsumer("group." + TestName());
  ASSERT_NE(consumer, nullptr);
  EXPECT_EQ(Receive(*consumer, 3).size(), 3u);
}

TEST_F(KafkaClientTest, BadPropertyIsInvalidArgumentNamingIt) {
  ConsumerOptions options = Options("group." + TestName());
  options.extra["no.such.property"] = "1";
  auto consumer = Consumer::Create(options);
  ASSERT_FALSE(consumer.ok());
  EXPECT_EQ(consumer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(consumer.status().message(), ::testing::HasSubstr("no.such.property"));

  auto producer = Producer::Create(
      {.bootstrap_servers = cluster_->bootstrap_servers(), .extra = {{"acks", "sometimes"}}});
  ASSERT_FALSE(producer.ok());
  EXPECT_EQ(producer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(producer.status().message(), ::testing::HasSubstr("acks"));
}

TEST(KafkaProducerTest, UnreachableBrokerFailsAtTheDeadline) {
  // Port 1 on loopback: connection refused, so nothing is ever acknowledged.
  auto producer = Producer::Create({.bootstrap_servers = "127.0.0.1:1"});
  ASSERT_TRUE(producer.ok()) << producer.status();
  const auto started = std::chrono::steady_clock::now();
  absl::Status status = (*producer)->ProduceAndWait(
      {{.topic = "leads.inbound", .key = "k", .value = "v"}}, milliseconds(1000));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_LT(elapsed, seconds(3));
}

TEST(KafkaProducerTest, DeliveryFailureNamesTopicAndReason) {
  // librdkafka gives up on the record itself (message.timeout.ms) before our deadline, so the
  // failure arrives as a delivery report rather than as a timeout of the wait.
  auto producer = Producer::Create(
      {.bootstrap_servers = "127.0.0.1:1", .extra = {{"message.timeout.ms", "500"}}});
  ASSERT_TRUE(producer.ok()) << producer.status();
  absl::Status status = (*producer)->ProduceAndWait(
      {{.topic = "leads.assignments", .key = "k", .value = "v"}}, seconds(5));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), ::testing::HasSubstr("leads.assignments"));
  EXPECT_THAT(status.message(), ::testing::HasSubstr("timed out"));
}

TEST(KafkaProducerTest, RejectedMessageErrorNamesTopicAndReasonAndProducerRecovers) {
  auto cluster = MockCluster::Create();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic("small", 1).ok());
  // The record is larger than the producer may send: the error must name topic and reason.
  auto producer = Producer::Create({.bootstrap_servers = (*cluster)->bootstrap_servers(),
                                    .extra = {{"message.max.bytes", "1000"}}});
  ASSERT_TRUE(producer.ok()) << producer.status();
  absl::Status status =
      (*producer)->ProduceAndWait({{.topic = "small", .key = "k", .value = "v"},
                                   {.topic = "small", .key = "k", .value = std::string(5000, 'x')}},
                                  seconds(5));
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), ::testing::HasSubstr("small"));
  // The producer stays usable for the next batch.
  EXPECT_TRUE(
      (*producer)->ProduceAndWait({{.topic = "small", .key = "k", .value = "v"}}, seconds(5)).ok());
}

}  // namespace
}  // namespace leadrouter::kafka

namespace leadrouter::kafka {
namespace {

// A message the producer can never send (over message.max.bytes) is reported as refused, the
// others of the call are still delivered, and the call succeeds: one such message must not
// stall its caller. Without `refused` the call fails as before.
TEST_F(KafkaClientTest, PermanentlyRefusedMessagesAreReportedAndTheRestDelivered) {
  auto small = Producer::Create({.bootstrap_servers = cluster_->bootstrap_servers(),
                                 .extra = {{"message.max.bytes", "2000"}}});
  ASSERT_TRUE(small.ok()) << small.status();
  std::vector<OutgoingMessage> sent = MakeMessages(6);
  sent[1].value = std::string(5000, 'x');
  sent[4].value = std::string(9000, 'y');
  std::vector<RefusedMessage> refused;
  ASSERT_TRUE((*small)->ProduceAndWait(sent, seconds(10), &refused).ok());
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0].index, 1u);
  EXPECT_EQ(refused[1].index, 4u);
  EXPECT_EQ(refused[0].reason, "too_large");
  EXPECT_THAT(refused[0].error, ::testing::HasSubstr(topic_));

  auto consumer = NewConsumer("group." + TestName());
  ASSERT_NE(consumer, nullptr);
  EXPECT_THAT(Keys(Receive(*consumer, 4)),
              UnorderedElementsAreArray({"key-0", "key-2", "key-3", "key-5"}));

  const absl::Status without = (*small)->ProduceAndWait(sent, seconds(10));
  EXPECT_FALSE(without.ok()) << "without a refusal list a refusal fails the call";
}

// A stop must not wait out the produce timeout while the brokers are down.
TEST_F(KafkaClientTest, ProduceGivesUpSoonAfterCancel) {
  ASSERT_TRUE(cluster_->SetBrokersDown(true).ok());
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(300));
    cancel.store(true);
  });
  const auto started = std::chrono::steady_clock::now();
  const absl::Status status =
      producer_->ProduceAndWait(MakeMessages(3), seconds(60), nullptr, &cancel);
  const auto took = std::chrono::steady_clock::now() - started;
  canceller.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_LT(took, seconds(5));
  ASSERT_TRUE(cluster_->SetBrokersDown(false).ok());
}

// Commits are asynchronous: with the group coordinator gone, Commit returns at once (its failure
// reaches on_commit later) and Close still ends within its bound.
TEST_F(KafkaClientTest, CommitNeverBlocksAndCloseIsBoundedWhenTheBrokersAreGone) {
  const std::vector<OutgoingMessage> sent = MakeMessages(10);
  ASSERT_TRUE(producer_->ProduceAndWait(sent, seconds(10)).ok());
  std::vector<absl::Status> commits;
  ConsumerOptions options = Options("group." + TestName());
  options.on_commit = [&commits](const absl::Status& status) { commits.push_back(status); };
  auto consumer = Consumer::Create(options);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  const std::vector<ConsumedMessage> received = Receive(**consumer, sent.size());
  ASSERT_EQ(received.size(), sent.size());
  ASSERT_TRUE((*consumer)->Commit(received).ok());
  // The answer arrives with a later poll.
  const auto until = std::chrono::steady_clock::now() + seconds(10);
  while (commits.empty() && std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE((*consumer)->PollBatch(10, milliseconds(100)).ok());
  }
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_TRUE(commits[0].ok()) << commits[0];

  ASSERT_TRUE(cluster_->SetBrokersDown(true).ok());
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE((*consumer)->Commit(received).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(1)) << "Commit blocked";
  (*consumer)->Close(milliseconds(2000));
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(6)) << "Close not bounded";
  ASSERT_TRUE(cluster_->SetBrokersDown(false).ok());
}

}  // namespace
}  // namespace leadrouter::kafka
