#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "leadrouter/v1/lifecycle.pb.h"

namespace leadrouter::cli {

// The command-line name of a return reason: the enum value's name without the
// "RETURN_REASON_" prefix, in lower case ("bad_fit", "other"); "unspecified" for
// RETURN_REASON_UNSPECIFIED, "reason_<n>" for a value this build does not know.
std::string ReturnReasonName(leadrouter::v1::ReturnReason reason);

// Every reason a rep may give, in enum order (every value but UNSPECIFIED), by their
// command-line names. Derived from the proto descriptor, so a new enum value appears here.
std::vector<std::string> ReturnReasonNames();

// Parses a return reason: its command-line name, case-insensitive, '-' and '_' alike, with or
// without the "return_reason_" prefix ("bad_fit", "Bad-Fit", "RETURN_REASON_BAD_FIT").
// UNSPECIFIED and anything else is INVALID_ARGUMENT, with a message listing the valid names.
absl::StatusOr<leadrouter::v1::ReturnReason> ParseReturnReason(std::string_view text);

// Parses a point in time given on the command line:
//   RFC 3339 with a UTC offset: "2024-05-01T09:00:00Z", "2024-05-01T09:00:00.5+02:00" (a space
//   may stand for the "T", lower case "t" and "z" are accepted)
//   a date alone, meaning 00:00 UTC that day: "2024-05-01"
// Anything else (notably a time without an offset, whose zone would be a guess) is
// INVALID_ARGUMENT with an example of the expected form.
absl::StatusOr<absl::Time> ParseTime(std::string_view text);

// The bearer token from the contents of a token file or LEADCTL_TOKEN: surrounding whitespace
// (a trailing newline) is dropped; what is left must be non-empty printable ASCII without spaces,
// as HTTP/2 metadata allows, else INVALID_ARGUMENT (the message never contains the token).
absl::StatusOr<std::string> ParseToken(std::string_view raw);

}  // namespace leadrouter::cli
