#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace leadrouter::core {

// Runs `on_expire` on its own thread if Disarm() is not called within `timeout` of Arm(): a
// hard bound on something that must finish (the daemon's shutdown). Arm once; Disarm and the
// destructor are idempotent, and the destructor disarms and joins.
// Thread-safe: Arm, Disarm and the destructor may be called from any thread (not the watchdog's
// own from inside `on_expire`).
class Watchdog {
 public:
  Watchdog() = default;
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog();

  void Arm(std::chrono::milliseconds timeout, std::function<void()> on_expire);
  void Disarm();

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool disarmed_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace leadrouter::core
