#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace leadrouter::api {

// The gRPC status for an absl::Status: the same code (absl's codes are gRPC's, 0..16) and
// message, cut to kMaxErrorMessageBytes (error_text.h); a code outside that range becomes UNKNOWN.
// Error details stay in the message text (it names the field): Debian's gRPC ships no compiled
// google.rpc.Status / error_details protos to carry structured details. Thread-safe.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The canonical name of a status code: "OK", "INVALID_ARGUMENT", ...; "UNKNOWN" for a value
// outside the enum. Thread-safe.
std::string StatusCodeName(grpc::StatusCode code);

}  // namespace leadrouter::api
