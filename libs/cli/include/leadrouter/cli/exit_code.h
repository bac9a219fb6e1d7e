#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <string_view>

namespace leadrouter::cli {

// leadctl's exit codes. Scripts branch on them: 3 means "do not retry the same request", 4 means
// "retry later".
inline constexpr int kExitOk = 0;
// The server failed on its own (INTERNAL, UNKNOWN, DATA_LOSS, CANCELLED) or leadctl could not
// print a response.
inline constexpr int kExitFailure = 1;
// Bad flags or arguments: unknown command or flag, unknown return reason, unparsable time,
// unreadable token or TLS file. Nothing was sent.
inline constexpr int kExitUsage = 2;
// The server refused the request: INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION,
// PERMISSION_DENIED, UNAUTHENTICATED, ALREADY_EXISTS, OUT_OF_RANGE, UNIMPLEMENTED; also a config
// reload the server refused.
inline constexpr int kExitRefused = 3;
// The server is unreachable or cannot answer now: UNAVAILABLE, DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED (e.g. a stream that fell too far behind), ABORTED.
inline constexpr int kExitUnavailable = 4;

// The exit code for a call that ended with `code` (kExitOk for OK).
int ExitCodeFor(grpc::StatusCode code);

// The canonical upper-case name of `code`, e.g. "NOT_FOUND"; "CODE_<n>" for a value outside the
// enum.
std::string StatusCodeName(grpc::StatusCode code);

// The line leadctl prints to stderr for a failed call, without a newline:
// "leadctl: NOT_FOUND: unknown lead ld_x". The message is made one line (control characters
// become spaces).
std::string ErrorLine(const grpc::Status& status);

}  // namespace leadrouter::cli
