#pragma once

// Internal to leadrouter_lead (and its tests): the RFC 8259 gate of the LeadEvent JSON decoder.

#include <google/protobuf/descriptor.h>

#include <optional>
#include <string>
#include <string_view>

#include "leadrouter/lead/rejection.h"

namespace leadrouter::lead::internal {

// Arrays and objects nested deeper than this are refused (simdjson's default depth; protobuf's
// parser itself refuses objects deeper than 100).
inline constexpr int kMaxJsonNesting = 1024;

// Checks that `json` is one RFC 8259 JSON text with no key given twice in any object, before
// any parser decides (protobuf 3.21's parser takes raw control bytes in strings, trailing commas,
// a form feed as whitespace, and merges or overwrites duplicate keys). Returns nullopt when it
// is, else an kUndecodable Rejection:
//   * syntax: `invalid JSON: <problem> at byte <offset>`, e.g.
//     `invalid JSON: trailing comma at byte 15`,
//     `invalid JSON: unescaped control character U+0001 in a string at byte 13`;
//     the problem never quotes the payload, so log_detail equals detail.
//   * a duplicate key, at any depth, after unescaping (RFC 8259 section 8.3: "\u0061" is "a"):
//     `duplicate key "person" at the top level`, `duplicate key "email" in person`,
//     `duplicate key "k" in attributes` (a map), `duplicate key "a" in x.y[2]` (unknown fields
//     too). Where `type` (the message at the top level) knows the object, a field named by both
//     its proto name and its json_name is a duplicate as well, since protobuf would let the later
//     win: `duplicate key "eventId" at the top level (the same field as "event_id")`. A quoted
//     key is escaped for display and cut at 128 bytes. log_detail keeps only what the schema
//     names: the key when it is a field name and the path up to the first map key or unknown
//     field, e.g. `duplicate key in attributes`, `duplicate key in an unknown field of person`.
//   * nesting deeper than kMaxJsonNesting.
// Also refuses a byte order mark, lone UTF-16 surrogate escapes ("\ud800") and whitespace other
// than space, tab, line feed and carriage return. Precondition: `json` is valid UTF-8 (bytes of
// 0x80 and above are taken as string content as they are). Problems are reported in text order:
// the first one reached.
//
// Cost: one pass over the input. Memory: a frame per open array or object (at most
// kMaxJsonNesting) and 32 bytes per key of the open objects (plus a hash set for objects of more
// than 16 keys, and a copy of each key that has escapes), all released on return. No recursion
// limit issue: recursion is bounded by kMaxJsonNesting. Pure and thread-safe.
// A key or path segment for a rejection's detail: escaped like a JSON string body (quotes,
// backslashes, control bytes), cut at `limit` bytes with "...". Pure.
std::string Shown(std::string_view text, size_t limit);

std::optional<Rejection> CheckStrictJson(std::string_view json,
                                         const google::protobuf::Descriptor* type);

}  // namespace leadrouter::lead::internal
