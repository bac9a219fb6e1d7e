// The consume loop's batch queue and recovery step, against the fake consumer: order within a
// partition, requeue after failure, pause/resume and revocations.
#include "leadrouter/pipeline/batch_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "leadrouter/pipeline/recovery.h"
#include "leadrouter/testing/fake_kafka.h"

namespace leadrouter::pipeline {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kTopic[] = "leads.inbound";

// "p<partition>@<offset>" of each record, in order.
std::vector<std::string> Ids(const std::vector<kafka::ConsumedMessage>& records) {
  std::vector<std::string> ids;
  for (const auto& r : records)
    ids.push_back("p" + std::to_string(r.partition) + "@" + std::to_string(r.offset));
  return ids;
}

std::vector<kafka::ConsumedMessage> Next(BatchQueue& queue, size_t max = 100) {
  auto batch = queue.Next(max, milliseconds(0), milliseconds(0));
  EXPECT_TRUE(batch.ok()) << batch.status();
  return batch.ok() ? *std::move(batch) : std::vector<kafka::ConsumedMessage>{};
}

TEST(BatchQueue, HandsOutEachPartitionInOffsetOrder) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  for (int i = 0; i < 3; ++i) {
    consumer.Add(kTopic, 0, "a");
    consumer.Add(kTopic, 1, "b");
  }
  EXPECT_THAT(Ids(Next(queue, 4)), ElementsAre("p0@0", "p1@0", "p0@1", "p1@1"));
  EXPECT_THAT(Ids(Next(queue, 4)), ElementsAre("p0@2", "p1@2"));
  EXPECT_THAT(Next(queue), IsEmpty());
}

TEST(BatchQueue, AFailedBatchComesBackFirstInItsOrder) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  for (int i = 0; i < 4; ++i) consumer.Add(kTopic, 0, "x");
  std::vector<kafka::ConsumedMessage> first = Next(queue, 2);
  ASSERT_THAT(Ids(first), ElementsAre("p0@0", "p0@1"));
  // While it failed, the loop kept polling (records behind it are kept, not processed first).
  ASSERT_TRUE(queue.PollAndKeep(100, milliseconds(0)).ok());
  EXPECT_EQ(queue.size(), 2u);
  queue.Requeue(first);
  EXPECT_THAT(first, IsEmpty());
  EXPECT_EQ(queue.size(), 4u);
  EXPECT_THAT(Ids(Next(queue, 3)), ElementsAre("p0@0", "p0@1", "p0@2"));
  EXPECT_THAT(Ids(Next(queue, 3)), ElementsAre("p0@3"));
}

TEST(BatchQueue, BatchesFailingTogetherKeepTheirOrder) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  for (int i = 0; i < 6; ++i) consumer.Add(kTopic, 0, "x");
  std::vector<kafka::ConsumedMessage> in_flight = Next(queue, 2);
  std::vector<kafka::ConsumedMessage> next = Next(queue, 2);
  ASSERT_TRUE(queue.PollAndKeep(100, milliseconds(0)).ok());  // p0@4, p0@5
  // The batch in flight failed, then the one prepared behind it: both go back, oldest first,
  // in front of what was kept.
  queue.Requeue(in_flight);
  queue.Requeue(next);
  EXPECT_THAT(Ids(Next(queue)), ElementsAre("p0@0", "p0@1", "p0@2", "p0@3", "p0@4", "p0@5"));
}

TEST(BatchQueue, ARequeueAfterTheNextBatchGoesInFrontAgain) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  for (int i = 0; i < 4; ++i) consumer.Add(kTopic, 0, "x");
  std::vector<kafka::ConsumedMessage> batch = Next(queue, 2);
  ASSERT_TRUE(queue.PollAndKeep(100, milliseconds(0)).ok());
  queue.Requeue(batch);
  batch = Next(queue, 1);  // the retry takes p0@0 only; it fails again
  ASSERT_THAT(Ids(batch), ElementsAre("p0@0"));
  queue.Requeue(batch);
  EXPECT_THAT(Ids(Next(queue)), ElementsAre("p0@0", "p0@1", "p0@2", "p0@3"));
}

TEST(BatchQueue, PauseAndResumeReachTheConsumerAndTheListener) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  std::vector<bool> heard;
  queue.OnPausedChange([&](bool paused) { heard.push_back(paused); });
  consumer.AddFetched(kTopic, 0, "fetched before the pause");
  consumer.Add(kTopic, 0, "not fetched yet");
  queue.Pause();
  EXPECT_TRUE(queue.paused());
  EXPECT_TRUE(consumer.paused());
  // Paused, polls return only what was fetched before: kept, not dropped.
  ASSERT_TRUE(queue.PollAndKeep(100, milliseconds(0)).ok());
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(consumer.undelivered(), 1u);
  queue.Resume();
  EXPECT_FALSE(consumer.paused());
  EXPECT_THAT(heard, ElementsAre(true, false));
  EXPECT_THAT(Ids(Next(queue)), ElementsAre("p0@0"));
  EXPECT_THAT(Ids(Next(queue)), ElementsAre("p0@1"));
}

TEST(BatchQueue, ARefusedPauseIsNotAChange) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  int heard = 0;
  queue.OnPausedChange([&](bool) { ++heard; });
  consumer.Close();
  queue.Pause();
  EXPECT_FALSE(queue.paused());
  EXPECT_EQ(heard, 0);
}

TEST(BatchQueue, ARevokedPartitionsPendingRecordsAreDroppedAndNeverCommitted) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  for (int i = 0; i < 2; ++i) {
    consumer.Add(kTopic, 0, "mine");
    consumer.Add(kTopic, 1, "moves away");
  }
  std::vector<kafka::ConsumedMessage> failed = Next(queue, 2);  // p0@0, p1@0
  ASSERT_TRUE(queue.PollAndKeep(100, milliseconds(0)).ok());    // p0@1, p1@1
  queue.Requeue(failed);
  consumer.Revoke({{kTopic, 1}});
  std::vector<kafka::ConsumedMessage> batch = Next(queue);
  EXPECT_THAT(Ids(batch), ElementsAre("p0@0", "p0@1"));
  EXPECT_TRUE(queue.empty());
  ASSERT_TRUE(consumer.Commit(batch).ok());
  EXPECT_EQ(consumer.committed(), (std::map<kafka::TopicPartition, int64_t>{{{kTopic, 0}, 2}}));
}

TEST(BatchQueue, ARevocationDuringAPollDropsOnlyWhatWasKeptBefore) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  consumer.Add(kTopic, 1, "kept before");
  ASSERT_TRUE(queue.PollAndKeep(100, milliseconds(0)).ok());
  // The rebalance takes p1 away and hands it back (eager protocol): the record kept before is
  // not ours any more; what the poll returns after it is.
  consumer.Revoke({{kTopic, 1}});
  consumer.Assign({{kTopic, 1}});
  consumer.Add(kTopic, 1, "after the rebalance");
  ASSERT_TRUE(queue.PollAndKeep(100, milliseconds(0)).ok());
  EXPECT_THAT(Ids(Next(queue)), ElementsAre("p1@1"));
}

TEST(BatchQueue, RequeuedRecordsOfARevokedPartitionDoNotShiftTheNextRequeue) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  consumer.Add(kTopic, 1, "x");
  consumer.Add(kTopic, 0, "y");
  consumer.Add(kTopic, 0, "z");
  std::vector<kafka::ConsumedMessage> first = Next(queue, 2);  // p1@0, p0@0
  ASSERT_TRUE(queue.PollAndKeep(100, milliseconds(0)).ok());   // p0@1
  queue.Requeue(first);
  consumer.Revoke({{kTopic, 1}});
  EXPECT_EQ(queue.DropRevoked(), 1u);
  kafka::ConsumedMessage late;
  late.topic = kTopic;
  late.partition = 2;
  std::vector<kafka::ConsumedMessage> more = {late};
  queue.Requeue(more);  // same round: behind p0@0, in front of p0@1
  EXPECT_THAT(Ids(Next(queue)), ElementsAre("p0@0", "p2@0", "p0@1"));
}

TEST(BatchQueue, AConsumerErrorIsReturned) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  consumer.FailNextPoll(absl::InternalError("fatal"));
  EXPECT_EQ(queue.Next(10, milliseconds(0), milliseconds(0)).status().code(),
            absl::StatusCode::kInternal);
}

Recovery::Options Fast() {
  Recovery::Options options;
  options.initial_backoff = milliseconds(5);
  options.max_backoff = milliseconds(20);
  options.poll_slice = milliseconds(1);
  return options;
}

TEST(Recovery, PausesWhileBackingOffKeepsPollingAndResumesOnSuccess) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  Recovery recovery(queue, Fast());
  consumer.AddFetched(kTopic, 0, "returned while paused");
  consumer.Add(kTopic, 0, "fetched after the resume");
  const std::atomic<bool> stop{false};
  int ticks = 0;
  auto waited =
      recovery.BackOff(absl::UnavailableError("redis down"), 3, 100, stop, [&] { ++ticks; });
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_TRUE(*waited);
  EXPECT_TRUE(recovery.recovering());
  EXPECT_EQ(recovery.attempts(), 1);
  EXPECT_GT(ticks, 0);
  EXPECT_THAT(Ids(Next(queue)), ElementsAre("p0@0"));
  // A second failure does not pause again.
  ASSERT_TRUE(recovery.BackOff(absl::UnavailableError("still down"), 1, 100, stop).ok());
  EXPECT_EQ(consumer.pause_calls(), 1);
  EXPECT_EQ(recovery.attempts(), 2);
  recovery.Succeeded();
  EXPECT_FALSE(recovery.recovering());
  EXPECT_EQ(consumer.resume_calls(), 1);
  EXPECT_EQ(recovery.attempts(), 0);
  EXPECT_THAT(Ids(Next(queue)), ElementsAre("p0@1"));
}

TEST(Recovery, AStopEndsTheBackoff) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  Recovery::Options slow = Fast();
  slow.initial_backoff = slow.max_backoff = milliseconds(60'000);
  Recovery recovery(queue, slow);
  std::atomic<bool> stop{false};
  auto waited =
      recovery.BackOff(absl::UnavailableError("down"), 1, 100, stop, [&] { stop = true; });
  ASSERT_TRUE(waited.ok());
  EXPECT_FALSE(*waited);
}

TEST(Recovery, AConsumerErrorWhileBackingOffIsReturned) {
  testing::FakeConsumer consumer;
  BatchQueue queue(consumer);
  Recovery recovery(queue, Fast());
  consumer.FailNextPoll(absl::InternalError("fatal"));
  const std::atomic<bool> stop{false};
  EXPECT_EQ(recovery.BackOff(absl::UnavailableError("down"), 1, 100, stop).status().code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace leadrouter::pipeline
