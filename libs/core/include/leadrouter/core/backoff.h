#pragma once

#include <chrono>
#include <cstdint>

namespace leadrouter::core {

// Capped exponential backoff with full jitter, for retrying a failed dependency without
// busy-looping or stampeding. Not thread-safe: one instance per retry loop.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed = 0);

  // The delay before the next attempt; grows until max.
  std::chrono::milliseconds Next();
  // Call after a success so the next failure starts from the initial delay again.
  void Reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  int attempt_ = 0;
  uint64_t state_;
};

}  // namespace leadrouter::core
