#pragma once

#include <atomic>
#include <chrono>

namespace leadrouter::core {

using TimePoint = std::chrono::system_clock::time_point;

// Clock is the only source of "now" for leadrouter's logic, so tests can inject time.
// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  // A process-wide instance; never destroyed.
  static const Clock& Get();
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint Now() const override {
    return TimePoint(TimePoint::duration(now_.load(std::memory_order_acquire)));
  }
  void Set(TimePoint t) { now_.store(t.time_since_epoch().count(), std::memory_order_release); }
  void Advance(std::chrono::nanoseconds d) {
    now_.fetch_add(std::chrono::duration_cast<TimePoint::duration>(d).count(),
                   std::memory_order_acq_rel);
  }

 private:
  std::atomic<TimePoint::rep> now_;
};

}  // namespace leadrouter::core
