#pragma once

// Internal to leadrouter_lead (and its tests): the pass between the RFC 8259 gate and protobuf's
// JSON parser on the fallback path of DecodeLeadEvent (decode.h explains why it exists).

#include <google/protobuf/descriptor.h>

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "leadrouter/lead/decode.h"
#include "leadrouter/lead/rejection.h"

namespace leadrouter::lead::internal {

struct PreparedJson {
  // The input with every enum value of a known field rewritten to its full name ("VALUE",
  // "value", 2, "2" → "BUYING_PRIORITY_VALUE") and every unknown field removed, at any depth.
  // Known keys and all other values are copied byte for byte; blanks between tokens are dropped.
  std::string json;
  // Under UnknownFields::kAttributes, the scalar leaves of the unknown fields in text order:
  // (dotted path, value) as decode.h describes. Empty under the other policies.
  std::vector<std::pair<std::string, std::string>> unknown_scalars;
};

// Precondition: `json` passed CheckStrictJson(json, &type) (so it is one valid JSON text nested at
// most kMaxJsonNesting deep). A top level that is not an object is copied as it is (protobuf
// decides). Returns kInvalidField for an enum value that ResolveEnumName / ResolveEnumNumber do
// not take (any JSON type other than null, a string or an integer included), or for the first
// unknown field under kReject; the first problem in text order wins. Enum rejections quote the
// value (at most 64 bytes, as JSON text) in `detail` only. Pure and thread-safe.
std::variant<PreparedJson, Rejection> PrepareJson(std::string_view json,
                                                  const google::protobuf::Descriptor& type,
                                                  UnknownFields policy);

// DecodeLeadEvent's JSON path without the fast path, before TidyStrings: the RFC 8259 gate,
// PrepareJson, protobuf's strict parser, then the unknown scalars merged into attributes. The
// reference the fast path and the differential tests are held to. Precondition: `payload` is
// valid UTF-8. Pure and thread-safe.
DecodeResult DecodeJsonFallback(std::string_view payload, const DecodeOptions& options);

}  // namespace leadrouter::lead::internal
