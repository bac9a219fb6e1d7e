#pragma once

#include <string>
#include <string_view>

namespace leadrouter::lead {

// Why an inbound event cannot become a lead. The values are bounded and stable: they are
// metric labels and the `x-leadrouter-error-code` header of dead letters.
enum class RejectReason {
  kTooLarge,
  kUnsupportedContentType,
  kUndecodable,
  kMissingField,
  kInvalidField,
};

// The stable snake_case name of a reason ("too_large", "missing_field", ...).
std::string_view RejectReasonName(RejectReason reason);

// A rejected event: the reason class, and a human-readable detail naming the field.
struct Rejection {
  RejectReason reason;
  std::string detail;
  std::string log_detail{};
};

}  // namespace leadrouter::lead
