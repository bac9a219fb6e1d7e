#include "leadrouter/core/watchdog.h"

namespace leadrouter::core {

void Watchdog::Arm(std::chrono::milliseconds timeout, std::function<void()> on_expire) {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || disarmed_) return;
  thread_ = std::thread([this, timeout, on_expire = std::move(on_expire)] {
    std::unique_lock<std::mutex> lock(mu_);
    if (changed_.wait_for(lock, timeout, [this] { return disarmed_; })) return;
    lock.unlock();
    on_expire();
  });
}

void Watchdog::Disarm() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    disarmed_ = true;
  }
  changed_.notify_all();
}

Watchdog::~Watchdog() {
  Disarm();
  if (thread_.joinable()) thread_.join();
}

}  // namespace leadrouter::core
