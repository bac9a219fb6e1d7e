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
  // A record of a configured source (or naming one) that its mapping cannot turn into a
  // LeadEvent: the detail names the source and the source path that failed.
  kUnmappable,
};

// The stable snake_case name of a reason ("too_large", "missing_field", ...).
std::string_view RejectReasonName(RejectReason reason);

// A rejected event: the reason class and two wordings of what is wrong.
//
// `detail` is for the dead-letter header `x-leadrouter-error` (an access-controlled topic that
// holds the payload anyway): it names the field and may quote values from the payload (a map
// key, a content-type, protobuf's parser message with the offending value and an excerpt).
//
// `log_detail` is for log lines and anything else readable without access to the payload: it
// names the field (by its proto path) and the kind of problem, with sizes, limits and byte
// offsets, but never a value or an excerpt of the payload. Every Rejection built by libs/lead
// fills both; when a rejection has nothing input-derived in it, the two are equal.
struct Rejection {
  RejectReason reason;
  std::string detail;
  std::string log_detail{};
};

// For optional trace logging of a payload excerpt: the same bytes with their shape kept and their
// content gone. ASCII letters become 'x', ASCII digits '9'; every other byte of 0x80 and above
// (non-ASCII letters and anything else: names and e-mails in any script) becomes 'x' per UTF-8
// sequence; control bytes (below 0x20, and 0x7F) become '.', so the result stays one log line;
// ASCII punctuation and spaces are kept. An invalid UTF-8 byte counts as one sequence. So
// `{"email":"Jane.Doe@x.example","phone":5551234}` becomes
// `{"xxxxx":"xxxx.xxx@x.xxxxxxx","xxxxx":9999999}`. Pure and thread-safe.
std::string RedactForTrace(std::string_view text);

}  // namespace leadrouter::lead
