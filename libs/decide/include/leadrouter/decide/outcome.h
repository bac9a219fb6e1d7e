#pragma once

// The pieces every decision shares: the stable ids of a lead, the routing decision written onto
// an assignment, the message identity of a transition, and conversions between the engines'
// types and their protobuf messages. All pure and thread-safe (no state).

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/dedupe/dedupe.h"
#include "leadrouter/qualify/qualifier.h"
#include "leadrouter/routing/engine.h"
#include "leadrouter/v1/assignment.pb.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::decide {

// The actor of every transition leadrouter makes itself (routing, re-routing, expiry).
inline constexpr std::string_view kRouterActor = "leadrouter";

// The stages of a decision's trace (v1::TraceStep.stage), in the order they appear.
enum class TraceStage {
  kDedupe,     // matched a live lead of the same person
  kQualify,    // the qualification decision
  kAccount,    // the account's owners
  kTerritory,  // a territory tried
  kPool,       // a pool tried
  kCandidate,  // a pool member and why it was chosen or skipped
  kCounters,   // the shared counters the decision moved
  kRoute,      // the decision
};
// Its name in TraceStep.stage: "dedupe", "qualify", "account", "territory", "pool",
// "candidate", "counters", "route" (the v1 contract; never renamed).
const char* TraceStageName(TraceStage stage);

// Stable ids derived from the tenant and event id: the same on every instance and replay.
std::string LeadIdFor(const std::string& tenant, const std::string& event_id);
std::string AssignmentIdFor(const std::string& tenant, const std::string& event_id);
// The assignment id of a lead's re-route as attempt `attempt` (after a return or an expiry).
std::string ReassignmentIdFor(const std::string& tenant, const std::string& lead_id, int attempt);

// Fills `a` from a routing decision made at `now`: status (ASSIGNED, or UNASSIGNED when nobody
// was eligible), rep, territory, pool, reason, config version, assigned_at / event_time, the
// accept-SLA deadline (config.lifecycle, ASSIGNED only), attempt (1 when unset), a history
// entry, and the trace: the qualification step is kept, routing steps are replaced by this
// decision's (account owner, territories, pools, candidates, counters moved).
// Also the rep's crm_user_id (empty without a rep or without one configured), and the message
// identity of the new transition (StampMessageIdentity).
void ApplyRoute(const config::Config& config, core::TimePoint now,
                const routing::RoutingDecision& route, const routing::RoutingState& before,
                const routing::RoutingState& after,
                const std::optional<dedupe::AccountOwner>& owner, v1::AssignmentEvent& a);

// Gives the transition just made on `a` its message identity, so that every published message
// has its own message_id and a re-publication of it the same one: `sequence` is the length of
// the lead's history (each transition appends one entry) and message_id is derived from the lead
// id and that sequence. A DUPLICATE (which appends nothing to the live lead) gets sequence 0 and
// an id derived from its own event id. Deterministic.
void StampMessageIdentity(v1::AssignmentEvent& a);

// Before a stored outcome's assignment moves on: keeps the message first published for the event
// (EventOutcome.first_message), once, so a replay of the event re-publishes exactly that.
void KeepFirstMessage(v1::EventOutcome& outcome);

// The message first published for the event of `outcome`: first_message once the lead has moved
// on, else its assignment. Requires outcome.has_assignment().
const v1::AssignmentEvent& FirstMessage(const v1::EventOutcome& outcome);

// A lead that dedupe may still attach activity to: someone holds it (ASSIGNED, ACCEPTED) or it
// waits for someone (UNASSIGNED). Nurture records and closed leads are not live.
bool IsLive(const v1::EventOutcome& outcome);

google::protobuf::Timestamp ToTimestamp(core::TimePoint t);
core::TimePoint ToTimePoint(const google::protobuf::Timestamp& t);
int64_t EpochSeconds(core::TimePoint t);

// The qualification decision as its protobuf message.
v1::Qualification ToProto(const qualify::Decision& decision);

// What routing looks at in a lead: its company facts, its qualification segments, rep-sourcing,
// and the skills it requires (attributes.required_skills, comma-separated).
routing::LeadFacts LeadFactsFor(const v1::LeadEvent& lead,
                                const google::protobuf::RepeatedPtrField<std::string>& segments);

// An enum value's name without its type's prefix: ("LEAD_SOURCE_KIND_PARTNER",
// "LEAD_SOURCE_KIND_") -> "PARTNER"; lower-cased when `lower` ("returned", "bad_fit").
std::string ShortEnumName(const std::string& full_name, std::string_view prefix,
                          bool lower = false);
// "LEAD_SOURCE_KIND_PARTNER" -> "PARTNER".
std::string ShortSourceKind(v1::LeadSourceKind kind);

// A stored EventOutcome (an event's record). DataLoss naming `what` (e.g. `event "e1"`,
// `lead ld_x`) when the bytes do not parse or hold no outcome.
absl::StatusOr<std::shared_ptr<v1::EventOutcome>> ParseStoredOutcome(const std::string& what,
                                                                     const std::string& bytes);

}  // namespace leadrouter::decide
