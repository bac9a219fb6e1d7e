#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadrouter/kafka/consumer.h"
#include "leadrouter/kafka/message.h"
#include "leadrouter/kafka/producer.h"

// In-memory kafka::Consumer and kafka::Producer for unit tests of the code above the Kafka seam
// (the pipeline's batch queue, anything that publishes): no broker, no threads of their own.
namespace leadrouter::testing {

// A consumer-group member whose partitions, records and rebalances the test controls.
//
// Records are fed per partition (Add gives them the partition's next offset) and handed out by
// PollBatch in the order they were fed, up to max_messages, from assigned partitions only. While
// paused, PollBatch hands out only records fed with AddFetched (those "fetched before the
// pause", which a real consumer may still return). An empty poll waits up to max_wait for a
// record to be fed (from another thread), never longer. Revoke takes partitions away as a
// rebalance would: their records not yet handed out are gone, TakeRevoked reports them once, and
// Commit refuses them (FailedPrecondition) as the librdkafka implementation does.
//
// Thread-safety: thread-safe. The code under test may poll on one thread while the test feeds,
// revokes and inspects on another.
class FakeConsumer final : public kafka::Consumer {
 public:
  FakeConsumer() = default;
  ~FakeConsumer() override = default;

  // --- the test's side ---

  // Adds `partitions` to the assignment (a partition assigned while paused is paused too).
  void Assign(const std::vector<kafka::TopicPartition>& partitions);
  // Takes `partitions` away (see the class comment).
  void Revoke(const std::vector<kafka::TopicPartition>& partitions);
  // Feeds a record with `value` to `topic`/`partition` (assigning the partition if it is not),
  // at the partition's next offset; returns that record.
  kafka::ConsumedMessage Add(const std::string& topic, int32_t partition, std::string value);
  // As Add, but the record counts as fetched before any pause: PollBatch returns it even while
  // paused.
  kafka::ConsumedMessage AddFetched(const std::string& topic, int32_t partition, std::string value);
  // The next PollBatch returns `status` (non-OK) instead of records.
  void FailNextPoll(absl::Status status);

  // Every Commit call's records, in call order (as given, refused partitions included).
  std::vector<std::vector<kafka::ConsumedMessage>> commit_calls() const;
  // The committed position (highest committed offset + 1) of every partition committed so far.
  std::map<kafka::TopicPartition, int64_t> committed() const;
  // Records fed and not yet handed out.
  size_t undelivered() const;
  int pause_calls() const;
  int resume_calls() const;
  bool closed() const;

  // --- kafka::Consumer ---
  using kafka::Consumer::Close;
  using kafka::Consumer::PollBatch;
  absl::StatusOr<std::vector<kafka::ConsumedMessage>> PollBatch(
      size_t max_messages, std::chrono::milliseconds max_wait,
      std::chrono::milliseconds linger) override;
  absl::Status Commit(const std::vector<kafka::ConsumedMessage>& processed) override;
  std::vector<kafka::TopicPartition> TakeRevoked() override;
  absl::Status Pause() override;
  absl::Status Resume() override;
  bool paused() const override;
  absl::StatusOr<std::vector<kafka::PartitionLag>> Lag() const override;
  void Close(std::chrono::milliseconds timeout) override;

 private:
  struct Fed {
    kafka::ConsumedMessage message;
    bool fetched = false;  // returned even while paused
  };
  kafka::ConsumedMessage AddLocked(const std::string& topic, int32_t partition, std::string value,
                                   bool fetched);
  bool DeliverableLocked(const Fed& fed) const;

  mutable std::mutex mu_;
  std::condition_variable fed_;
  std::set<kafka::TopicPartition> assigned_;
  std::map<kafka::TopicPartition, int64_t> next_offset_;
  std::deque<Fed> queue_;
  std::vector<kafka::TopicPartition> revoked_;
  std::optional<absl::Status> poll_failure_;
  std::vector<std::vector<kafka::ConsumedMessage>> commit_calls_;
  std::map<kafka::TopicPartition, int64_t> committed_;
  bool paused_ = false;
  bool closed_ = false;
  int pause_calls_ = 0;
  int resume_calls_ = 0;
};

// A producer that acknowledges everything at once and records it, unless told to fail.
//
// ProduceAndWait answers, in this order: the next queued failure (FailNext), else the sticky one
// (FailUntilCleared), else OK; a failed call records nothing (as if no message reached Kafka). A
// message whose topic was marked with RefuseTopic is refused for good: listed in `refused` when
// the caller takes refusals (and not recorded), else the whole call fails with InvalidArgument. A
// set `cancel` makes the call return Cancelled. WarmUp answers warm_up_status.
//
// Thread-safety: thread-safe.
class FakeProducer final : public kafka::Producer {
 public:
  FakeProducer() = default;
  ~FakeProducer() override = default;

  // --- the test's side ---
  // The next `times` calls fail with `status`.
  void FailNext(absl::Status status, int times = 1);
  // Every call fails with `status` until ClearFailure.
  void FailUntilCleared(absl::Status status);
  void ClearFailure();
  // Messages to `topic` are refused for good with `reason` ("too_large", ...).
  void RefuseTopic(const std::string& topic, std::string reason = "too_large");
  void SetWarmUpStatus(absl::Status status);

  // Every message acknowledged so far, in order.
  std::vector<kafka::OutgoingMessage> produced() const;
  // How many ProduceAndWait calls were made (failed ones included).
  int calls() const;

  // --- kafka::Producer ---
  absl::Status ProduceAndWait(const std::vector<kafka::OutgoingMessage>& messages,
                              std::chrono::milliseconds timeout,
                              std::vector<kafka::RefusedMessage>* refused = nullptr,
                              const std::atomic<bool>* cancel = nullptr) override;
  absl::Status WarmUp(const std::string& topic, std::chrono::milliseconds timeout) override;

 private:
  mutable std::mutex mu_;
  std::deque<absl::Status> failures_;
  std::optional<absl::Status> sticky_failure_;
  std::map<std::string, std::string> refused_topics_;
  absl::Status warm_up_status_;
  std::vector<kafka::OutgoingMessage> produced_;
  int calls_ = 0;
};

}  // namespace leadrouter::testing
