#include "leadrouter/core/backoff.h"

#include <algorithm>

namespace leadrouter::core {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed)
    : initial_(initial), max_(max), state_(seed * 2654435761u + 0x9E3779B97F4A7C15ull) {}

std::chrono::milliseconds Backoff::Next() {
  const int shift = std::min(attempt_, 20);
  ++attempt_;
  const int64_t ceiling = std::min<int64_t>(max_.count(), initial_.count() << shift);
  // splitmix64: cheap, good enough for jitter.
  state_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  // Half fixed, half jitter: never zero, never above the ceiling.
  const int64_t half = std::max<int64_t>(1, ceiling / 2);
  return std::chrono::milliseconds(half +
                                   static_cast<int64_t>(z % static_cast<uint64_t>(half + 1)));
}

}  // namespace leadrouter::core
