#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadrouter/kafka/consumer.h"
#include "leadrouter/kafka/message.h"

namespace leadrouter::pipeline {

// The records the consume loop took from the consumer and has not finished, and the batches it
// processes next, in the order they must be processed.
//
// Order: a batch is the oldest pending records, else a fresh poll. Pending records are, front to
// back: the batches that failed (Requeue), oldest first and each in its own order, then what polls
// returned while the loop was backing off (Keep). So the records of one partition are processed
// in offset order even across failures, and a failed batch is retried before anything newer.
//
// Revocations: before a batch is taken and before a poll's records are kept, the partitions the
// consumer lost in a rebalance (kafka::Consumer::TakeRevoked) are applied: their pending records
// are dropped, never processed or committed here; the partition's next owner consumes them from
// its committed offset. (A batch outside the queue, being processed or published, is not touched:
// its commit is refused for such a partition, and the idempotent replay makes that harmless.)
//
// Pause: Pause/Resume stop and restart fetching (kafka::Consumer::Pause), telling the listener
// set with OnPausedChange after each change that took effect; a refused change is logged only.
//
// Thread-compatible: the consume loop's thread only, as the consumer; `consumer` must outlive
// the queue.
class BatchQueue {
 public:
  explicit BatchQueue(kafka::Consumer& consumer);

  // The next batch: up to `max_messages` pending records, or, when none is pending, one
  // consumer.PollBatch(max_messages, max_wait, linger) (possibly empty). Starts a new requeue
  // round (see Requeue). A consumer error is returned as it is (fatal for the loop).
  absl::StatusOr<std::vector<kafka::ConsumedMessage>> Next(size_t max_messages,
                                                           std::chrono::milliseconds max_wait,
                                                           std::chrono::milliseconds linger);

  // Polls once for at most `max_wait` (while paused this serves rebalances and heartbeats, so
  // the member stays in its group) and keeps what it returns behind the pending records.
  absl::Status PollAndKeep(size_t max_messages, std::chrono::milliseconds max_wait);

  // Puts a batch that failed back in front of the pending records, after the batches requeued
  // since the last Next (so batches failing together keep their order). Leaves `batch` empty.
  void Requeue(std::vector<kafka::ConsumedMessage>& batch);

  // Applies the consumer's revocations to the pending records (see the class comment); returns
  // how many were dropped. Next and PollAndKeep call it.
  size_t DropRevoked();

  // Pending records.
  size_t size() const { return pending_.size(); }
  bool empty() const { return pending_.empty(); }

  void Pause() { SetPaused(true); }
  void Resume() { SetPaused(false); }
  bool paused() const { return consumer_.paused(); }
  void OnPausedChange(std::function<void(bool paused)> listener) {
    on_paused_ = std::move(listener);
  }

 private:
  void SetPaused(bool paused);
  void Keep(std::vector<kafka::ConsumedMessage>& records);

  kafka::Consumer& consumer_;
  std::deque<kafka::ConsumedMessage> pending_;
  size_t requeued_ = 0;  // records requeued since the last Next, at the front of pending_
  std::function<void(bool)> on_paused_;
};

}  // namespace leadrouter::pipeline
