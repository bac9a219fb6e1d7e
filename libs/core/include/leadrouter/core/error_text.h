#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace leadrouter::core {

// Error messages travel in gRPC's grpc-message trailer, which clients limit (grpc-js: 16 KiB of
// metadata in all; past it the call hangs to its deadline and ends RESOURCE_EXHAUSTED). So a
// request's own value never goes into a message whole.

// `value` quoted for an error message: in double quotes, `"` and `\` escaped with a backslash,
// control bytes and invalid UTF-8 as \xNN, at most `max` bytes of `value` (cut at a UTF-8
// character boundary); a longer value ends in `…` and its size, e.g. "abc…" (102400 bytes).
// Thread-safe.
std::string QuoteForError(std::string_view value, size_t max = 64);

// The longest error message the API sends.
inline constexpr size_t kMaxErrorMessageBytes = 256;

// `message` when it has at most `max` bytes, else its first bytes (cut at a UTF-8 character
// boundary) and "… (N bytes)" within `max` bytes: the last guard for a message built from
// anything. Thread-safe.
std::string BoundErrorMessage(std::string_view message, size_t max = kMaxErrorMessageBytes);

}  // namespace leadrouter::core
