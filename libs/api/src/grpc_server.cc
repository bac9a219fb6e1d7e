#include "leadrouter/api/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rpc_interceptor.h"

namespace leadrouter::api {

namespace {

std::shared_ptr<grpc::ServerCredentials> Credentials(const TlsOptions& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  // With a client CA, a presented certificate is always verified; only "must present one"
  // differs. Never the *_BUT_DONT_VERIFY variants: an unverified certificate proves nothing.
  grpc_ssl_client_certificate_request_type request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  if (tls.require_client_cert) {
    request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  } else if (!tls.client_ca_pem.empty()) {
    request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  grpc::SslServerCredentialsOptions options(request);
  options.pem_root_certs = tls.client_ca_pem;
  options.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const std::string& listen, const std::vector<grpc::Service*>& services, const TlsOptions& tls,
    RpcObserver* observer) {
  if (tls.enabled() && tls.key_pem.empty()) {
    return absl::InvalidArgumentError("grpc: TLS needs the private key with the certificate");
  }
  if (tls.require_client_cert && (!tls.enabled() || tls.client_ca_pem.empty())) {
    return absl::InvalidArgumentError(
        "grpc: require_client_cert needs TLS and the CA that signs client certificates");
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  std::unique_ptr<GrpcServer> server(new GrpcServer());
  builder.AddListeningPort(listen, Credentials(tls), &server->port_);
  for (grpc::Service* service : services) builder.RegisterService(service);
  if (observer != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(internal::NewRpcObserverInterceptorFactory(*observer));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "grpc: cannot listen on ", listen,
        tls.enabled() ? " (address in use, or the TLS certificate or key was rejected: see the "
                        "gRPC log above)"
                      : ""));
  }
  return server;
}

GrpcServer::~GrpcServer() {
  Shutdown(std::chrono::seconds(1));
}

void GrpcServer::SetServing(bool serving) {
  if (server_ && server_->GetHealthCheckService() != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(serving);
  }
}

void GrpcServer::Shutdown(std::chrono::milliseconds deadline) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  SetServing(false);
  server_->Shutdown(std::chrono::system_clock::now() + deadline);
  server_->Wait();
}

}  // namespace leadrouter::api
