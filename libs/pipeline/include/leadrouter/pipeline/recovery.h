#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadrouter/core/backoff.h"
#include "leadrouter/pipeline/batch_queue.h"

namespace leadrouter::pipeline {

// What the consume loop does between a failed batch and the next one that goes all the way
// through: pause consumption, wait out a capped exponential backoff (with jitter) while still
// polling, so the member stays in its group, keeping what the polls return in the queue (memory
// stays bounded by what was fetched before the pause); meanwhile the loop retries one batch at a
// time (recovering()), and the first success resumes consumption and resets the backoff.
//
// Thread-compatible: the consume loop's thread only; `queue` must outlive it.
class Recovery {
 public:
  struct Options {
    std::chrono::milliseconds initial_backoff{100};
    std::chrono::milliseconds max_backoff{5000};
    // The longest single poll while backing off (how soon a stop is noticed).
    std::chrono::milliseconds poll_slice{100};
  };

  explicit Recovery(BatchQueue& queue) : Recovery(queue, Options{}) {}
  Recovery(BatchQueue& queue, Options options);

  // After a failure (`why`, of a batch or batches of `events` events): pauses the queue's consumer
  // unless it is already, logs, then waits out the next backoff delay, polling at most
  // `max_messages` at a time into the queue and calling `tick` (optional) before each poll.
  // True when the delay ran out, false when `stop` was set meanwhile; a consumer error (fatal
  // for the loop) as it is.
  absl::StatusOr<bool> BackOff(const absl::Status& why, size_t events, size_t max_messages,
                               const std::atomic<bool>& stop,
                               const std::function<void()>& tick = {});

  // Whether the loop is recovering from a failure: consumption is paused, and batches go one at
  // a time until one succeeds.
  bool recovering() const { return queue_.paused(); }

  // A batch went all the way through while recovering: resumes consumption, resets the backoff.
  void Succeeded();

  // Failed attempts since the last success.
  int attempts() const { return backoff_.attempts(); }

 private:
  BatchQueue& queue_;
  const Options options_;
  core::Backoff backoff_;
};

}  // namespace leadrouter::pipeline
