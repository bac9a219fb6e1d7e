#include "leadrouter/api/grpc_status.h"

#include <string>

#include "leadrouter/api/error_text.h"

namespace leadrouter::api {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const int code = static_cast<int>(status.code());
  // absl::StatusCode and grpc::StatusCode share their numbers (both follow google.rpc.Code).
  static_assert(static_cast<int>(absl::StatusCode::kUnauthenticated) ==
                static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  static_assert(static_cast<int>(absl::StatusCode::kPermissionDenied) ==
                static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  static_assert(static_cast<int>(absl::StatusCode::kDataLoss) ==
                static_cast<int>(grpc::StatusCode::DATA_LOSS));
  const bool known = code > 0 && code <= static_cast<int>(grpc::StatusCode::UNAUTHENTICATED);
  return grpc::Status(known ? static_cast<grpc::StatusCode>(code) : grpc::StatusCode::UNKNOWN,
                      BoundErrorMessage(std::string(status.message())));
}

std::string StatusCodeName(grpc::StatusCode code) {
  // The codes share their numbers (see above) and abseil names them as gRPC does.
  std::string name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  return name.empty() ? "UNKNOWN" : name;
}

}  // namespace leadrouter::api
