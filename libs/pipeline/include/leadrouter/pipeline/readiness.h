#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace leadrouter::pipeline {

// Whether the daemon can make progress: ready exactly while every named condition holds
// ("kafka" reachable, "redis" answering within its timeout, "consumption" not paused for
// backpressure). This is what grpc.health.v1 and /readyz report; liveness is separate (the
// process answering at all).
//
// Thread-safe. `on_change` runs on the thread whose Set changed the verdict, outside the lock,
// and sees every change in order.
class Readiness {
 public:
  // `initially_failing` start as not holding ("not checked yet"), so a daemon is not ready
  // before its first successful probe; any other condition holds until Set says otherwise.
  explicit Readiness(std::vector<std::string> initially_failing,
                     std::function<void(bool ready)> on_change = nullptr);

  // Records whether condition `name` holds; `why` says what fails (ignored when it holds).
  void Set(std::string_view name, bool holds, std::string why = "");
  bool ready() const;
  // The failing conditions with their reasons ("kafka: ...; redis: ..."), "" when ready.
  std::string Describe() const;

 private:
  std::function<void(bool)> on_change_;
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> failing_;  // name -> why; guarded by mu_
  std::mutex notify_mu_;                                     // keeps on_change_ calls in order
};

// Checks dependencies for Readiness: each check returns OK when its dependency answers in
// time. Run() checks all of them every `interval` until `stop`; RunOnce() once.
// Thread-compatible: one thread runs it.
class DependencyProbe {
 public:
  struct Check {
    std::string name;                     // the Readiness condition it sets
    std::function<absl::Status()> probe;  // must bound its own wait
  };
  DependencyProbe(Readiness& readiness, std::vector<Check> checks);

  void RunOnce();
  void Run(const std::atomic<bool>& stop, std::chrono::milliseconds interval);

 private:
  Readiness& readiness_;
  std::vector<Check> checks_;
};

}  // namespace leadrouter::pipeline
