#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "leadrouter/core/clock.h"
#include "leadrouter/lead/rejection.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::lead {

// The rules every LeadEvent must pass before it is routed:
//   lengths       every string at most its limit in bytes (below), checked before anything else
//   event_id      1..128 printable ASCII characters, no spaces
//   occurred_at   set, after 2000-01-01, and at most 24 h ahead of `now` (clock skew allowance)
//   source_kind   set to a known value
//   person        email or phone present; a present email has the shape local@domain.tld;
//                 a present phone has 7..20 digits and only phone punctuation
//   company       employee_count, annual_revenue_usd, location_count not negative
//   psychographics  known enum values (an unknown number, possible in binary protobuf, is
//                 `source_kind: 9 is not one of INBOUND_MARKETING, ...`); intent_score 0..100
//   attributes    at most 64 entries, keys 1..64 bytes, values at most 1024 bytes
//
// String limits, in bytes (UTF-8), by field path:
//   event_id 128, source_system 256, campaign 256, sourced_by_rep_id 128, source_record_id 128,
//   person.first_name 256, person.last_name 256, person.email 254 (RFC 5321's path limit less
//   the angle brackets), person.phone 64, person.title 256,
//   company.name 512, company.website 2048, company.industry 256, company.country 64,
//   company.region 64, company.postal_code 32,
//   attributes 64 entries of key 64 + value 1024.
// So a valid LeadEvent carries at most kMaxLeadEventStringBytes = 74,590 bytes of string data
// (4,958 in the named fields, 69,632 in attributes). Its protobuf JSON (what leadrouter embeds in
// the AssignmentEvent it publishes) is about that size plus ~2 KB of names and punctuation for
// text that needs no escaping, and at most kMaxLeadEventJsonBytes = 450,000 bytes when every
// byte is one protobuf escapes as \uXXXX ('<', '>', control bytes): within the 1,000,000-byte
// default message.max.bytes of Kafka and librdkafka, with room for the AssignmentEvent's own
// fields. A new string field of LeadEvent needs a limit here (the unit test checks every one).
//
// An over-long string is kInvalidField with a detail such as
// `person.first_name: 1040000 bytes, the limit is 256`.
// Returns the first violation, naming the field; the Rejection's `log_detail` never holds a
// value (for attributes it omits the key). Pure and thread-safe.
std::optional<Rejection> ValidateLeadEvent(const v1::LeadEvent& event, core::TimePoint now);

// The limit of one string field of LeadEvent (attributes excepted), by its proto field path.
struct StringFieldLimit {
  std::string_view field;  // e.g. "person.first_name"
  size_t max_bytes;
};

// The limits above, in the order ValidateLeadEvent checks them.
std::span<const StringFieldLimit> StringFieldLimits();

inline constexpr size_t kMaxAttributes = 64;
inline constexpr size_t kMaxAttributeKeyBytes = 64;
inline constexpr size_t kMaxAttributeValueBytes = 1024;
inline constexpr size_t kMaxLeadEventStringBytes = 74590;
inline constexpr size_t kMaxLeadEventJsonBytes = 450000;

}  // namespace leadrouter::lead
