#include "leadrouter/pipeline/batch_queue.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <utility>

namespace leadrouter::pipeline {

BatchQueue::BatchQueue(kafka::Consumer& consumer) : consumer_(consumer) {}

absl::StatusOr<std::vector<kafka::ConsumedMessage>> BatchQueue::Next(
    size_t max_messages, std::chrono::milliseconds max_wait, std::chrono::milliseconds linger) {
  DropRevoked();
  requeued_ = 0;
  if (pending_.empty()) {
    auto polled = consumer_.PollBatch(max_messages, max_wait, linger);
    // Revoked during that poll: the consumer already left out their records; nothing else is
    // pending.
    consumer_.TakeRevoked();
    return polled;
  }
  const auto take = static_cast<std::ptrdiff_t>(std::min(pending_.size(), max_messages));
  std::vector<kafka::ConsumedMessage> batch(std::make_move_iterator(pending_.begin()),
                                            std::make_move_iterator(pending_.begin() + take));
  pending_.erase(pending_.begin(), pending_.begin() + take);
  return batch;
}

absl::Status BatchQueue::PollAndKeep(size_t max_messages, std::chrono::milliseconds max_wait) {
  auto polled = consumer_.PollBatch(max_messages, max_wait);
  if (!polled.ok()) return polled.status();
  // Records kept earlier may belong to partitions that poll's rebalance took away; its own
  // records came after it.
  DropRevoked();
  Keep(*polled);
  return absl::OkStatus();
}

void BatchQueue::Keep(std::vector<kafka::ConsumedMessage>& records) {
  pending_.insert(pending_.end(), std::make_move_iterator(records.begin()),
                  std::make_move_iterator(records.end()));
  records.clear();
}

void BatchQueue::Requeue(std::vector<kafka::ConsumedMessage>& batch) {
  pending_.insert(pending_.begin() + static_cast<std::ptrdiff_t>(requeued_),
                  std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
  requeued_ += batch.size();
  batch.clear();
}

size_t BatchQueue::DropRevoked() {
  const std::vector<kafka::TopicPartition> revoked = consumer_.TakeRevoked();
  if (revoked.empty() || pending_.empty()) return 0;
  auto lost = [&](const kafka::ConsumedMessage& m) {
    return std::any_of(revoked.begin(), revoked.end(), [&](const kafka::TopicPartition& tp) {
      return tp.partition == m.partition && tp.topic == m.topic;
    });
  };
  // Keep requeued_ pointing past the requeued records that remain.
  const auto requeued_end = pending_.begin() + static_cast<std::ptrdiff_t>(requeued_);
  const size_t dropped_requeued =
      static_cast<size_t>(std::count_if(pending_.begin(), requeued_end, lost));
  const size_t before = pending_.size();
  std::erase_if(pending_, lost);
  requeued_ -= dropped_requeued;
  const size_t dropped = before - pending_.size();
  if (dropped > 0) {
    spdlog::info(
        "dropped {} pending record(s) of revoked partitions: their next owner consumes them "
        "from the committed offset",
        dropped);
  }
  return dropped;
}

void BatchQueue::SetPaused(bool paused) {
  const absl::Status status = paused ? consumer_.Pause() : consumer_.Resume();
  if (!status.ok()) {
    spdlog::warn("{}", status.ToString());
    return;
  }
  if (on_paused_) on_paused_(paused);
}

}  // namespace leadrouter::pipeline
