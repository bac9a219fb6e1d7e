#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace leadrouter::api {

// A running gRPC server with the standard health service and server reflection enabled.
// Thread-safe.
class GrpcServer {
 public:
  // listen is host:port; port 0 picks a free port. FailedPrecondition when it cannot bind.
  // The services must outlive the server.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const std::string& listen, const std::vector<grpc::Service*>& services);
  ~GrpcServer();  // Shutdown(1 s) if not yet shut down

  int port() const { return port_; }
  // Marks the server NOT_SERVING in the health service.
  void SetServing(bool serving);
  // Stops accepting calls and cancels the rest after the deadline. Idempotent.
  void Shutdown(std::chrono::milliseconds deadline);

 private:
  GrpcServer() = default;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace leadrouter::api
