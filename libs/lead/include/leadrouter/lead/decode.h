#pragma once

#include <optional>
#include <string_view>
#include <variant>

#include "leadrouter/lead/rejection.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::lead {

// Encodings accepted on the inbound topic, chosen by the message's `content-type` header:
//   application/json (optionally with parameters)       → protobuf JSON mapping of LeadEvent
//   application/x-protobuf, application/protobuf,
//   application/vnd.google.protobuf                      → binary LeadEvent
// Without the header the payload is sniffed: JSON if its first non-blank byte is '{', else binary.
// Unknown JSON fields (top level or nested, e.g. "utm_source" or "person.linkedin") follow
// DecodeOptions::unknown_fields (below); binary protobuf always ignores unknown fields.
// Enum values may be given by full name (BUYING_PRIORITY_VALUE), by the name without the enum's
// prefix (VALUE), either in any case (value, Value), by a known number, or by that number as a
// plain decimal string ("2"); JSON null leaves the field unset. Anything else, an unknown number
// included, is kInvalidField naming the field and listing what is accepted, e.g.
//   psychographics.buying_priority: "VALU" is not one of PRICE, VALUE (or
//   BUYING_PRIORITY_PRICE, ..., in any case, or the number)
// (the log_detail leaves out the value), whether or not unknown fields are present.
//
// How both JSON paths agree: the fast path (fast_json.h) resolves enum spellings with the same
// function as the fallback and declines whatever it is not sure of. The fallback does not rely on
// protobuf's parser for enums or unknown fields at all: after the RFC 8259 gate, one pass over
// the text (json_prepare.h) rewrites every enum value to its full name (or rejects it), drops
// unknown fields (collecting or rejecting them per the policy), and only then protobuf's strict
// parser reads the result. So protobuf never sees a spelling it would refuse or an unknown field
// it would have to skip, and its ignore_unknown_fields option (which also drops misspelled enum
// values silently) is never used.
// JSON payloads must be valid UTF-8 and strict RFC 8259 JSON: no raw control bytes in strings, no
// trailing commas, no byte order mark, only space/tab/CR/LF as whitespace, no lone surrogate
// escapes, and no key given twice in any object at any depth (after unescaping; for a field of
// LeadEvent, also not by both its proto name and its json_name), where protobuf's own parser
// would merge the two or let the later win. Such a payload is kUndecodable with a detail such as
//   invalid JSON: unescaped control character U+0001 in a string at byte 14
//   invalid JSON: trailing comma at byte 15
//   duplicate key "person" at the top level
//   duplicate key "email" in person
//   duplicate key "plan" in attributes
// (the byte offset of the problem; never an excerpt of the payload). Binary strings are checked
// by protobuf. Every Rejection carries a `log_detail` without values (see rejection.h): for
// protobuf's parser messages, which quote values and payload excerpts, it keeps only the field
// path when LeadEvent's schema confirms it and the kind of problem in fixed words, e.g.
//   invalid LeadEvent JSON at person.email: a value of the wrong type or out of range
// Every string of a decoded event is tidied before validation, whatever the encoding: blanks
// around it (ASCII whitespace, U+00A0, U+200B, U+FEFF) are removed, and inside first_name,
// last_name, title, company name and industry a run of blanks becomes one space. So
// "  BO.CHEN@CORP-BLANK.ORG " is the address BO.CHEN@CORP-BLANK.ORG, as form fills mean it.
using DecodeResult = std::variant<v1::LeadEvent, Rejection>;

// What to do with a JSON field LeadEvent does not have (config `ingest.unknown_fields`).
enum class UnknownFields {
  // Skipped, as binary protobuf skips unknown fields: producers may add fields before
  // leadrouter knows them.
  kIgnore,
  // Scalars (string, number, bool) are kept as attributes under their dotted path, so
  // qualification rules can use them: {"utm_source":"g"} → attributes["utm_source"] = "g",
  // {"x":{"y":1}} → attributes["x.y"] = "1" (a number as written, a bool as true/false);
  // nested objects are walked, arrays and nulls skipped. An attribute the event gives
  // explicitly wins over an unknown field of the same path. More than kMaxAttributes entries in
  // all is kInvalidField (`attributes: 70 entries with 8 unknown fields kept as attributes, the
  // limit is 64`), as is a path over kMaxAttributeKeyBytes (validate.h).
  kAttributes,
  // The first unknown field, in text order, is kInvalidField naming its path:
  // `person.linkedin: not a field of LeadEvent (ingest.unknown_fields: reject)` (the log detail
  // names only the known part of the path: `an unknown field in person`).
  kReject,
};

struct DecodeOptions {
  UnknownFields unknown_fields = UnknownFields::kIgnore;
};

// The tidying DecodeLeadEvent applies (above), for events that reach leadrouter another way
// (tests, tools). Pure.
void TidyStrings(v1::LeadEvent& event);

// Decodes one payload. Pure and thread-safe. Never throws; never crashes on hostile input.
// The JSON fast path takes events with unknown scalar fields only under kIgnore; under the other
// policies an event with unknown fields takes the fallback (slower, same result).
DecodeResult DecodeLeadEvent(std::string_view payload, std::optional<std::string_view> content_type,
                             size_t max_bytes, const DecodeOptions& options = {});

}  // namespace leadrouter::lead
