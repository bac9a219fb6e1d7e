#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadrouter/kafka/message.h"

namespace leadrouter::kafka {

struct ConsumerOptions {
  std::string bootstrap_servers{};
  std::string group_id{};
  std::vector<std::string> topics{};
  // Any librdkafka property, applied last so it can override the defaults below
  // (SASL/SSL settings, session.timeout.ms, partition.assignment.strategy, ...).
  std::map<std::string, std::string> extra{};
  // Hears the outcome of every asynchronous offset commit (see Consumer::Commit), on the thread
  // that polls, from inside PollBatch or Close. Optional; must not call back into the consumer.
  std::function<void(const absl::Status&)> on_commit{};
};

// How long Close (and the destructor) waits for the consumer to leave its group by default.
inline constexpr std::chrono::milliseconds kDefaultCloseTimeout{5000};

// How far behind the consumer is on one assigned partition.
struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  // High watermark minus the consumer's position (the next offset it will hand out), never
  // negative; nullopt while that is unknown (see Consumer::Lag).
  std::optional<int64_t> messages;
};

// One partition of a topic.
struct TopicPartition {
  std::string topic{};
  int32_t partition = 0;

  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

// A member of a Kafka consumer group with manual, commit-after-process offsets: the interface the
// pipeline consumes through. Create() builds the librdkafka implementation; tests use
// leadrouter::testing::FakeConsumer.
//
// Contract: at-least-once. Nothing is committed unless Commit() is called, so records that were
// polled but not committed are delivered again to whichever member owns the partition next.
// Defaults of the librdkafka implementation: enable.auto.commit=false,
// enable.auto.offset.store=false, auto.offset.reset=earliest, enable.partition.eof=false; its
// rebalance callback assigns and revokes partitions (eager or cooperative, whichever protocol the
// assignor uses) and logs them.
//
// Thread-safety: thread-compatible. One thread at a time may call its methods (implementations
// must allow that thread to change).
class Consumer {
 public:
  // Builds the librdkafka consumer and subscribes to `options.topics`. A property librdkafka
  // rejects yields InvalidArgument naming the property.
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(const ConsumerOptions& options);

  Consumer() = default;
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  // The librdkafka implementation's destructor calls Close(kDefaultCloseTimeout).
  virtual ~Consumer() = default;

  // Returns up to `max_messages` records, returning as soon as that many have arrived, or
  // `linger` after the first one arrived, or `max_wait` after the call (possibly with none). It
  // never blocks past either; records already buffered locally are still taken without blocking
  // (so a zero `linger` returns the first record with whatever else is at hand: batches then grow
  // with the load instead of waiting to fill). Records of one partition come in offset order. A
  // rebalance is served inside this call; it never returns a record of a partition revoked later
  // in the same call (see TakeRevoked). The librdkafka implementation is built from single
  // rd_kafka_consumer_poll() calls, because librdkafka 2.0.2's batch API can lose records across
  // rebalances. Transient errors are logged and skipped; only a fatal consumer error (or use after
  // Close) returns a non-OK status.
  virtual absl::StatusOr<std::vector<ConsumedMessage>> PollBatch(
      size_t max_messages, std::chrono::milliseconds max_wait,
      std::chrono::milliseconds linger) = 0;
  absl::StatusOr<std::vector<ConsumedMessage>> PollBatch(size_t max_messages,
                                                         std::chrono::milliseconds max_wait) {
    return PollBatch(max_messages, max_wait, max_wait);
  }

  // Commits, for each (topic, partition) present in `processed`, the highest offset seen plus
  // one (Kafka's "next record to read"), asynchronously: it never blocks, whatever the group
  // coordinator does; the broker's answer reaches ConsumerOptions::on_commit from a later
  // PollBatch (a failed commit means those records will be redelivered, and the caller's
  // idempotency makes that harmless). Commits are sent in call order. A partition that is no
  // longer assigned to this member (a rebalance moved it meanwhile) is not committed:
  // FailedPrecondition naming it, after the others were sent. An empty list is a no-op.
  virtual absl::Status Commit(const std::vector<ConsumedMessage>& processed) = 0;

  // The partitions taken away from this member (revoked or lost in a rebalance served by
  // PollBatch) since the previous call, each once (whether or not one came back since). Records
  // of those partitions the caller still holds from earlier PollBatch calls are no longer its to
  // process: their offsets cannot be committed here, and the partition's next owner (possibly
  // this member again, from the committed offset) consumes them again.
  virtual std::vector<TopicPartition> TakeRevoked() = 0;

  // Backpressure: stop fetching from every assigned partition (and from partitions assigned
  // while paused) until Resume. Keep calling PollBatch while paused: it serves rebalances and
  // group heartbeats, so the consumer stays in the group; it may still return messages fetched
  // before the pause, which the caller must keep, not drop. Idempotent.
  virtual absl::Status Pause() = 0;
  virtual absl::Status Resume() = 0;
  virtual bool paused() const = 0;

  // The lag of every partition assigned to this member now, from local caches only (in the
  // librdkafka implementation rd_kafka_get_watermark_offsets + rd_kafka_position): no broker
  // round trip, so it is cheap enough for the consume loop. The high watermark is the one the
  // last fetch response carried, so it is as fresh as the last fetch (stale while paused). The
  // position is known once a record of the partition has been handed out since it was assigned;
  // before that the lag is 0 if the partition is known to be empty (low == high watermark) and
  // nullopt otherwise: asking the broker for the committed offset would be a blocking round trip.
  // FailedPrecondition after Close; Unavailable if the assignment cannot be listed.
  virtual absl::StatusOr<std::vector<PartitionLag>> Lag() const = 0;

  // Leaves the group so its partitions are reassigned at once, and lets commits already sent
  // finish, waiting at most `timeout` (librdkafka's own close can wait session.timeout.ms, or
  // forever while the coordinator is unreachable). In the librdkafka implementation a close that
  // did not finish in time, or of a cooperative-sticky member that never received an assignment
  // (destroying it asserts in librdkafka 2.0.2, issue 4312), abandons the librdkafka handle
  // instead of destroying it: meant for shutdown, just before the process exits. Idempotent;
  // every other method then returns FailedPrecondition (paused() its last value).
  virtual void Close(std::chrono::milliseconds timeout) = 0;
  void Close() { Close(kDefaultCloseTimeout); }
};

}  // namespace leadrouter::kafka
