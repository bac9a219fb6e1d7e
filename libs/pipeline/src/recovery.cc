#include "leadrouter/pipeline/recovery.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace leadrouter::pipeline {

Recovery::Recovery(BatchQueue& queue, Options options)
    : queue_(queue), options_(options), backoff_(options.initial_backoff, options.max_backoff) {}

absl::StatusOr<bool> Recovery::BackOff(const absl::Status& why, size_t events, size_t max_messages,
                                       const std::atomic<bool>& stop,
                                       const std::function<void()>& tick) {
  if (!queue_.paused()) queue_.Pause();
  const auto delay = backoff_.Next();
  spdlog::error("batch of {} events failed (attempt {}), consumption paused, retrying in {} ms: {}",
                events, backoff_.attempts(), delay.count(), why.ToString());
  const auto until = std::chrono::steady_clock::now() + delay;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    if (tick) tick();
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (absl::Status polled = queue_.PollAndKeep(
            max_messages, std::clamp(left, std::chrono::milliseconds(0), options_.poll_slice));
        !polled.ok()) {
      return polled;
    }
  }
  return !stop.load();
}

void Recovery::Succeeded() {
  spdlog::info("batch succeeded after {} failed attempt(s); resuming consumption",
               backoff_.attempts());
  queue_.Resume();
  backoff_.Reset();
}

}  // namespace leadrouter::pipeline
