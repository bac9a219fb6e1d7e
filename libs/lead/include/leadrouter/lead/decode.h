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
// Unknown JSON fields are ignored, as binary protobuf ignores unknown fields, so producers can
// add fields before leadrouter knows them; a misspelled enum value is still an error.
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

// The tidying DecodeLeadEvent applies (above), for events that reach leadrouter another way
// (tests, tools). Pure.
void TidyStrings(v1::LeadEvent& event);

// Decodes one payload. Pure and thread-safe. Never throws; never crashes on hostile input.
DecodeResult DecodeLeadEvent(std::string_view payload, std::optional<std::string_view> content_type,
                             size_t max_bytes);

}  // namespace leadrouter::lead
