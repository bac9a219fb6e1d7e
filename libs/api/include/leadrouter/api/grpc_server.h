#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace leadrouter::api {

// TLS for the listener. Off (plaintext) when cert_pem is empty.
struct TlsOptions {
  std::string cert_pem;       // the server's certificate chain (PEM)
  std::string key_pem;        // its private key (PEM)
  std::string client_ca_pem;  // verifies client certificates; "" = none are requested
  // Refuse the handshake without a client certificate signed by client_ca_pem. Without this,
  // a client certificate is requested and, when presented, must verify against client_ca_pem.
  bool require_client_cert = false;
  bool enabled() const { return !cert_pem.empty(); }
};

// Hears every finished call of a GrpcServer, for metrics, without the api library depending on
// one. `method` is the full method name ("/leadrouter.v1.RouterService/AcceptLead") when the
// server implements it, else "unknown" (so a client cannot mint label values); `code` is the
// status code name ("OK", "NOT_FOUND", ...; "CANCELLED" for a call that ended without a status);
// `seconds` runs from the start of the call to its status, for unary calls only (a stream's
// lifetime says nothing about latency). Called on gRPC's threads: implementations must be
// thread-safe, fast, non-blocking and must not throw.
class RpcObserver {
 public:
  virtual ~RpcObserver() = default;
  virtual void RpcFinished(std::string_view method, std::string_view code,
                           std::optional<double> seconds) = 0;
};

// A running gRPC server with the standard health service (grpc.health.v1.Health) and server
// reflection enabled, over TLS when `tls` is given.
//
// Health and reflection answer without a bearer token (the services' own handlers check tokens
// with api::Authorizer): Kubernetes probes and grpcurl-style tools must work without secrets,
// and neither reveals data (the serving status; the public API schema). With TLS they are
// behind TLS like everything else: the kubelet's built-in gRPC probe speaks plaintext only, so
// probe with `grpc_health_probe -tls -tls-ca-cert ...` (plus -tls-client-cert/-key when client
// certificates are required), or a TCP probe.
// Thread-safe.
class GrpcServer {
 public:
  // listen is host:port; port 0 picks a free port. FailedPrecondition when it cannot bind or
  // the TLS material is rejected; InvalidArgument for inconsistent TlsOptions.
  // The services and the observer (optional: it hears every call through a server
  // interceptor) must outlive the server.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const std::string& listen, const std::vector<grpc::Service*>& services,
      const TlsOptions& tls = {}, RpcObserver* observer = nullptr);
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
