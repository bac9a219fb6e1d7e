#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "leadrouter/v1/router_service.grpc.pb.h"

namespace leadrouter::testing {

// The value after `key=` up to the next space in `line` ("" when absent): reads the daemon's
// "leadrouter ready grpc=... metrics=..." and the embedded Kafka's "bootstrap=..." lines.
std::string LineField(const std::string& line, const std::string& key);

// Reads one RouterService.StreamAssignments call (plaintext) on a background thread. Thread-safe.
class StreamCollector {
 public:
  explicit StreamCollector(const std::string& target, const std::string& after_cursor = "");
  ~StreamCollector();

  // Cancels the call and waits for the reader to finish. Idempotent.
  void Stop();
  // Waits until at least n events arrived or the stream ended; returns every event so far.
  std::vector<v1::AssignmentEvent> WaitFor(size_t n, std::chrono::milliseconds timeout);
  // Waits for the stream to end; returns its status (OK while still open at the timeout).
  grpc::Status WaitFinished(std::chrono::milliseconds timeout);

 private:
  std::unique_ptr<v1::RouterService::Stub> stub_;
  grpc::ClientContext context_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<v1::AssignmentEvent> events_;
  grpc::Status status_;
  bool finished_ = false;
};

}  // namespace leadrouter::testing
