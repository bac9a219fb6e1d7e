#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadrouter/testing/subprocess.h"

namespace leadrouter::testing {

// A real redis-server (from PATH) for tests, on 127.0.0.1 and a free port, without persistence.
// Ready when Start returns: PING has answered. Stopped (and reaped) by the destructor.
// For one controlling thread.
class RedisServer {
 public:
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start();
  // On a given port, e.g. to bring a server back where clients expect it.
  static absl::StatusOr<std::unique_ptr<RedisServer>> StartOnPort(int port);

  const std::string& host() const { return host_; }
  int port() const { return port_; }

  // Stops the server (connections drop, data is gone). Idempotent.
  absl::Status Stop();
  // Starts a fresh, empty server on the same port after Stop().
  absl::Status Restart();
  bool running() const { return process_ != nullptr; }
  // The server's output so far, for failure messages.
  std::string Output() const;

 private:
  explicit RedisServer(int port) : port_(port) {}
  absl::Status Launch();

  std::string host_ = "127.0.0.1";
  int port_;
  std::unique_ptr<Subprocess> process_;
  std::string previous_output_;
};

}  // namespace leadrouter::testing
