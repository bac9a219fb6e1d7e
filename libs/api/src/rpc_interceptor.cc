#include "rpc_interceptor.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/interceptor.h>

#include <chrono>
#include <optional>
#include <string_view>

#include "leadrouter/api/grpc_status.h"

namespace leadrouter::api::internal {
namespace {

using grpc::experimental::InterceptionHookPoints;

class ObserverInterceptor final : public grpc::experimental::Interceptor {
 public:
  ObserverInterceptor(RpcObserver& observer, std::string method, bool unary)
      : observer_(observer),
        method_(std::move(method)),
        unary_(unary),
        started_(std::chrono::steady_clock::now()) {}

  // A call that ends without sending a status (the client went away first) still counts once.
  ~ObserverInterceptor() override {
    if (!reported_) Report(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        !reported_) {
      Report(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Report(grpc::StatusCode code) {
    reported_ = true;
    std::optional<double> seconds;
    if (unary_) {
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    }
    observer_.RpcFinished(method_, StatusCodeName(code), seconds);
  }

  RpcObserver& observer_;
  const std::string method_;
  const bool unary_;
  const std::chrono::steady_clock::time_point started_;
  // Interception of one call is serialized by gRPC, and the destructor runs after the last.
  bool reported_ = false;
};

class ObserverInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ObserverInterceptorFactory(RpcObserver& observer) : observer_(observer) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ObserverInterceptor(observer_, BoundedMethodName(info->method()),
                                   info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY);
  }

 private:
  RpcObserver& observer_;
};

}  // namespace

std::string BoundedMethodName(const char* method) {
  constexpr std::string_view kUnknown = "unknown";
  if (method == nullptr) return std::string(kUnknown);
  const std::string_view path(method);
  const size_t slash = path.rfind('/');
  if (path.size() < 4 || path.front() != '/' || slash == 0 || slash + 1 >= path.size()) {
    return std::string(kUnknown);
  }
  const std::string service(path.substr(1, slash - 1));
  const std::string name(path.substr(slash + 1));
  // gRPC's built-in health service is not in the generated pool (Debian builds it on upb).
  if (service == "grpc.health.v1.Health" && (name == "Check" || name == "Watch")) {
    return std::string(path);
  }
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  if (descriptor == nullptr || descriptor->FindMethodByName(name) == nullptr) {
    return std::string(kUnknown);
  }
  return std::string(path);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcObserverInterceptorFactory(RpcObserver& observer) {
  return std::make_unique<ObserverInterceptorFactory>(observer);
}

}  // namespace leadrouter::api::internal
