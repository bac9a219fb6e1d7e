#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "leadrouter/v1/assignment.pb.h"

namespace leadrouter::api {

using SharedAssignment = std::shared_ptr<const v1::AssignmentEvent>;

// One live subscriber of the assignment stream (a gRPC stream, or a test).
// Offer() must not block: a sink that cannot keep up buffers up to its own bound and then
// closes itself. Implementations are thread-safe.
class AssignmentSink {
 public:
  virtual ~AssignmentSink() = default;
  virtual void Offer(const SharedAssignment& assignment) = 0;
  // Ends the subscription (server shutdown). Idempotent.
  virtual void Close() = 0;
};

// Fans published assignments out to every live sink. Publish() is called by the pipeline after
// the assignments are durable in Kafka; it never blocks on a slow subscriber. Thread-safe.
class AssignmentHub {
 public:
  // on_subscriber_count is called (outside the hub's lock) whenever the number of sinks changes.
  explicit AssignmentHub(std::function<void(size_t)> on_subscriber_count = nullptr);

  void Publish(const std::vector<SharedAssignment>& assignments);
  void Add(std::shared_ptr<AssignmentSink> sink);
  void Remove(const AssignmentSink* sink);
  // Closes every sink; later Adds are closed at once. For shutdown.
  void CloseAll();
  size_t size() const;

 private:
  void Notify(size_t count) const;

  std::function<void(size_t)> on_subscriber_count_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<AssignmentSink>> sinks_;
  bool closed_ = false;
};

}  // namespace leadrouter::api
