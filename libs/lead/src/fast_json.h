#pragma once

// Internal to leadrouter_lead (and its tests): the fast path of the LeadEvent JSON decoder.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string_view>

namespace leadrouter::lead::internal {

// Parses `json` (protobuf JSON mapping) into `out` with simdjson and protobuf reflection, for the
// common, well-formed shape of a message. Generic over descriptors, so it follows proto changes.
//
// Contract: returns true only when google::protobuf::util::JsonStringToMessage(json, &msg) with
// default (strict) options, on an empty message of out's type, would succeed and produce a
// message equal to `out` (MessageDifferencer::Equals). It returns false whenever it is not sure,
// and then `out`'s content is unspecified: the caller clears it and runs the protobuf parser,
// which decides (and words any rejection). `out` is cleared on entry.
//
// Declines (returns false) on, among others: input that is not strict RFC 8259 JSON or not valid
// UTF-8 (protobuf's parser is more lenient: unquoted keys, single quotes, trailing commas); a top
// level other than an object; unknown field names; a key matching two different fields; a field
// given twice in one object (by either name); a null inside an array or as a map value; null for
// a oneof member; wrong JSON types; integers given as JSON floats (1.0, 1e2) or as quoted strings
// other than plain decimals; out-of-range integers; floating point fields given as strings
// ("NaN", "1.5"), as -0.0, or as integers beyond 2^53 (double) / 2^24 (float); enum values that
// are not an exact name or a known number; bytes fields; map keys that are not strings; nesting
// deeper than 32 messages; Timestamps that are not strings of [0-9TZ:.+-] accepted by
// TimeUtil::FromString in years 0002..9998; other well-known types (Any, Struct, wrappers, ...);
// proto2 files; proto3 `optional` scalars; messages with more than 128 fields; inputs > 64 KiB
// (LeadEvents are ~0.6 KiB; the limit bounds the buffers each thread's parser keeps).
//
// So everything it takes passes the RFC 8259 gate (strict_json.h's CheckStrictJson, the
// differential test checks it): DecodeLeadEvent runs the gate only on what this declines.
//
// Thread-safe: each thread keeps its own simdjson parser (thread_local), so any number of threads
// may call it at once.
//
// FastJsonOptions change the reference the contract is stated against (the defaults are the
// above): with `lenient_enums`, an enum string is resolved by ResolveEnumName (enum_names.h)
// rather than taken only as an exact name; with `skip_unknown_scalars`, an unknown field whose
// value is a string, number, bool or null is skipped (an object or array under an unknown key
// is still declined, as are two unknown keys alike). With either set, the reference is
// protobuf's strict parser on PrepareJson's output under UnknownFields::kIgnore
// (json_prepare.h), which is DecodeLeadEvent's fallback.
struct FastJsonOptions {
  bool lenient_enums = false;
  bool skip_unknown_scalars = false;
};
bool TryParseJsonFast(std::string_view json, google::protobuf::Message& out,
                      const FastJsonOptions& options = {});

// The field a JSON key names in `descriptor`, by proto name or json_name; nullptr when none, or
// when the key names two different fields (protobuf would pick one; not worth mirroring).
const google::protobuf::FieldDescriptor* FindJsonField(
    const google::protobuf::Descriptor& descriptor, std::string_view key);

}  // namespace leadrouter::lead::internal
