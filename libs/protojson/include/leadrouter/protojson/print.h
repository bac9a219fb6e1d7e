#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string>

#include "absl/status/status.h"

namespace leadrouter::protojson {

// A reflection-based printer of the protobuf JSON mapping, byte-identical to protobuf 3.21's
// converter-based google::protobuf::util::MessageToJsonString(message, &out, options) with
// options.preserve_proto_field_names = true and every other option at its default: no
// whitespace, proto3 fields at their default value omitted (proto3 `optional` fields printed
// whenever set), enums by name (unknown numbers as numbers), int64/uint64 quoted, doubles as
// printf's %.15g (%.17g when that does not round-trip), NaN/Infinity quoted, bytes in base64,
// google.protobuf.Timestamp in RFC 3339, strings escaped as protobuf escapes them ('<', '>',
// controls, U+007F..U+009F, U+2028/9 and a few other invisible code points as \uXXXX).
//
// What it prints itself: proto3 messages made of scalars, strings, bytes, enums, nested proto3
// messages, repeated fields, maps, oneofs and google.protobuf.Timestamp. A message type that uses,
// transitively, anything else (proto2 files, groups, extensions, Any, Struct/Value/ListValue,
// wrappers, FieldMask, Duration, NullValue or any other google.protobuf.* type) is printed by
// MessageToJsonString itself; so is any single message that needs what protobuf's printer does
// on unusual input: a string that is not valid UTF-8, a Timestamp out of range (an error) or
// nesting deeper than 32 messages. The decision per message type is computed once and cached.
//
// Map entries: protobuf's printer follows the order of the serialization, which for a map of
// more than one entry is unspecified (a hash map's). A map without message values is read from
// the serialization of that field alone (protobuf's WireFormat, which walks the same map): for a
// map filled through the generated API, the order is protobuf's own. A map with message values
// is read through the repeated reflection view (built by protobuf once per message object, an
// allocation per entry); its order for several entries may differ from protobuf's, with the same
// content. So may that of a map last modified through the repeated reflection API.
//
// Locale: like protobuf, assumes the C locale for numbers (protobuf's float check uses strtof).
//
// Thread-safety: every function is safe to call concurrently, including on the same message
// (the per-type cache is built under a mutex and read through a per-thread cache). Types of a
// DescriptorPool other than the generated pool are never cached (their descriptors may die); they
// are slower but still exact.

// Appends the JSON of `message` to `out`: exactly the bytes MessageToJsonString would append to
// it, including, when protobuf's printer fails (a Timestamp out of range), its partial output.
void AppendJson(const google::protobuf::Message& message, std::string& out);

// AppendJson into a new string.
std::string ToJson(const google::protobuf::Message& message);

// Like AppendJson, but when protobuf's printer would fail, leaves `out` as it was and returns
// protobuf's error (as an absl::Status with the same code and message).
absl::Status TryAppendJson(const google::protobuf::Message& message, std::string& out);

// Whether AppendJson prints messages of this type itself rather than through protobuf's printer
// (messages with invalid UTF-8, bad timestamps or deep nesting still go to protobuf's printer).
bool PrintsItself(const google::protobuf::Descriptor* descriptor);

}  // namespace leadrouter::protojson
