#include "leadrouter/api/assignment_hub.h"

#include <algorithm>

namespace leadrouter::api {

AssignmentHub::AssignmentHub(std::function<void(size_t)> on_subscriber_count)
    : on_subscriber_count_(std::move(on_subscriber_count)) {}

void AssignmentHub::Publish(const std::vector<SharedAssignment>& assignments) {
  if (assignments.empty()) return;
  std::vector<std::shared_ptr<AssignmentSink>> sinks;
  {
    std::lock_guard lock(mu_);
    sinks = sinks_;
  }
  // Offer outside the lock: a sink may call Remove() re-entrantly when it closes itself.
  for (const auto& sink : sinks) {
    for (const auto& assignment : assignments) sink->Offer(assignment);
  }
}

void AssignmentHub::Add(std::shared_ptr<AssignmentSink> sink) {
  size_t count = 0;
  {
    std::lock_guard lock(mu_);
    if (!closed_) {
      sinks_.push_back(sink);
      count = sinks_.size();
    }
  }
  if (count == 0) {
    sink->Close();
    return;
  }
  Notify(count);
}

void AssignmentHub::Remove(const AssignmentSink* sink) {
  size_t count = 0;
  {
    std::lock_guard lock(mu_);
    std::erase_if(sinks_, [sink](const auto& s) { return s.get() == sink; });
    count = sinks_.size();
  }
  Notify(count);
}

void AssignmentHub::CloseAll() {
  std::vector<std::shared_ptr<AssignmentSink>> sinks;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    sinks = sinks_;
  }
  for (const auto& sink : sinks) sink->Close();
}

size_t AssignmentHub::size() const {
  std::lock_guard lock(mu_);
  return sinks_.size();
}

void AssignmentHub::Notify(size_t count) const {
  if (on_subscriber_count_) on_subscriber_count_(count);
}

}  // namespace leadrouter::api
