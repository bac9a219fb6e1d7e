#include "leadrouter/pipeline/readiness.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "absl/strings/str_cat.h"

namespace leadrouter::pipeline {

Readiness::Readiness(std::vector<std::string> initially_failing,
                     std::function<void(bool ready)> on_change)
    : on_change_(std::move(on_change)) {
  for (std::string& name : initially_failing) failing_.emplace(std::move(name), "not checked yet");
}

void Readiness::Set(std::string_view name, bool holds, std::string why) {
  // Serialises notifications, so the last one delivered is the current verdict.
  std::lock_guard<std::mutex> notify(notify_mu_);
  bool was_ready = false;
  bool now_ready = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_ready = failing_.empty();
    const auto it = failing_.find(name);
    if (holds) {
      if (it != failing_.end()) {
        spdlog::info("readiness: {} ok again", name);
        failing_.erase(it);
      }
    } else if (it == failing_.end()) {
      spdlog::warn("readiness: {} failing: {}", name, why);
      failing_.emplace(std::string(name), std::move(why));
    } else {
      it->second = std::move(why);
    }
    now_ready = failing_.empty();
  }
  if (was_ready != now_ready && on_change_) on_change_(now_ready);
}

bool Readiness::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failing_.empty();
}

std::string Readiness::Describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, why] : failing_) {
    absl::StrAppend(&out, out.empty() ? "" : "; ", name, ": ", why);
  }
  return out;
}

DependencyProbe::DependencyProbe(Readiness& readiness, std::vector<Check> checks)
    : readiness_(readiness), checks_(std::move(checks)) {}

void DependencyProbe::RunOnce() {
  for (const Check& check : checks_) {
    const absl::Status status = check.probe();
    readiness_.Set(check.name, status.ok(), std::string(status.message()));
  }
}

void DependencyProbe::Run(const std::atomic<bool>& stop, std::chrono::milliseconds interval) {
  while (!stop.load()) {
    const auto next = std::chrono::steady_clock::now() + interval;
    RunOnce();
    while (!stop.load() && std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace leadrouter::pipeline
