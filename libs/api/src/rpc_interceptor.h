#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "leadrouter/api/grpc_server.h"

namespace leadrouter::api::internal {

// A server interceptor factory whose interceptors report each call to `observer` once (see
// RpcObserver). The observer must outlive the server. Thread-safe.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcObserverInterceptorFactory(RpcObserver& observer);

// `method` ("/package.Service/Method") when the generated descriptor pool has that service and
// method, or it is the standard health service's; "unknown" otherwise. Keeps the method label
// bounded by the protos linked in, whatever path a client sends.
std::string BoundedMethodName(const char* method);

}  // namespace leadrouter::api::internal
