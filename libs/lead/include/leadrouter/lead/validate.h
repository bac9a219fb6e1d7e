#pragma once

#include <optional>

#include "leadrouter/core/clock.h"
#include "leadrouter/lead/rejection.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::lead {

// The rules every LeadEvent must pass before it is routed:
//   event_id      1..128 printable ASCII characters, no spaces
//   occurred_at   set, after 2000-01-01, and at most 24 h ahead of `now` (clock skew allowance)
//   source_kind   set to a known value
//   person        email or phone present; a present email has the shape local@domain.tld;
//                 a present phone has 7..15 digits and only phone punctuation
//   company       employee_count, annual_revenue_usd, location_count not negative
//   psychographics  known enum values; intent_score within 0..100
//   attributes    at most 64 entries, keys 1..64 bytes, values at most 1024 bytes
// Returns the first violation, naming the field; the Rejection's `log_detail` never holds a
// value (for attributes it omits the key). Pure and thread-safe.
std::optional<Rejection> ValidateLeadEvent(const v1::LeadEvent& event, core::TimePoint now);

}  // namespace leadrouter::lead
