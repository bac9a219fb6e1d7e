#pragma once

// The lifecycle of a routed lead, decided without I/O: accept, return, convert, SLA expiry and
// the re-route that follows a return or an expiry. Two layers:
//   - the transitions (Apply*, Reroute) rewrite one AssignmentEvent and move counters in a
//     RoutingState;
//   - Decide* take a lead's stored record and the routing counters (what a store read) and
//     return the events to publish and the Writes to apply atomically, so the daemon (against
//     Redis, with compare-and-set) and the simulator (against MemoryStore) change a lead the
//     same way.
// Pure, deterministic for given inputs and `now`; thread-safe (no shared state).

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/core/ids.h"
#include "leadrouter/decide/writes.h"
#include "leadrouter/routing/engine.h"
#include "leadrouter/v1/assignment.pb.h"
#include "leadrouter/v1/qualification.pb.h"

namespace leadrouter::decide {

// What one lifecycle operation did: the events to publish, in order.
struct LeadUpdate {
  // For `leads.assignments` (and, through the shared log, every StreamAssignments subscriber):
  // the transition, then the re-route if there was one.
  std::vector<std::shared_ptr<const v1::AssignmentEvent>> events;
  // For `leads.nurture`: a lead recycled to marketing after max_attempts.
  std::vector<std::shared_ptr<const v1::NurtureEvent>> recycled;
  // True when the request changed nothing (accepting an accepted lead again): `events` holds
  // the lead's current state, which is not published again.
  bool unchanged = false;
};

// --- Transitions of one AssignmentEvent ---------------------------------------------------------
// Each takes the lead's current state (the stored AssignmentEvent), checks the transition is
// allowed, and on success rewrites `lead` to its new state and returns the transition event.
// Counters of the rep who lets go of the lead move in `state`. Errors: InvalidArgument (a bad
// request field, named), FailedPrecondition (the lead is not in a state that allows it, or
// `rep_id` does not hold it).

// ASSIGNED -> ACCEPTED by its holder. Accepting an already ACCEPTED lead again is not an error:
// returns the current state unchanged with `changed` false (CRMs retry).
struct AcceptResult {
  v1::AssignmentEvent event;
  bool changed = true;
};
absl::StatusOr<AcceptResult> ApplyAccept(v1::AssignmentEvent& lead, const core::RepId& rep_id,
                                         const std::string& actor, core::TimePoint now);

// ASSIGNED | ACCEPTED -> RETURNED by its holder (reason required; note required for OTHER, at
// most 2,000 bytes). The holder's open count drops by one.
absl::StatusOr<v1::AssignmentEvent> ApplyReturn(v1::AssignmentEvent& lead,
                                                const core::RepId& rep_id, v1::ReturnReason reason,
                                                const std::string& note, const std::string& actor,
                                                core::TimePoint now, routing::RoutingState& state);

// ASSIGNED | ACCEPTED -> CONVERTED by its holder (value >= 0). The holder's open count drops by
// one and its recent conversions (for conversion_weighted pools) grow by one.
absl::StatusOr<v1::AssignmentEvent> ApplyConvert(v1::AssignmentEvent& lead,
                                                 const core::RepId& rep_id, double value,
                                                 const std::string& note, const std::string& actor,
                                                 core::TimePoint now, routing::RoutingState& state);

// ASSIGNED -> EXPIRED when its SLA deadline is at or before `now`. FailedPrecondition otherwise.
absl::StatusOr<v1::AssignmentEvent> ApplyExpire(v1::AssignmentEvent& lead, core::TimePoint now,
                                                routing::RoutingState& state);

// After a return or expiry: routes the lead again, excluding every rep who has held it, as
// attempt + 1; or, when attempt has reached config.lifecycle.max_attempts, RECYCLED (the
// returned NurtureEvent goes to marketing). Rewrites `lead` and returns its new event.
struct RerouteResult {
  v1::AssignmentEvent event;  // ASSIGNED, UNASSIGNED (queued) or RECYCLED
  std::optional<v1::NurtureEvent> recycled;
};
RerouteResult Reroute(const config::Config& config, core::TimePoint now, v1::AssignmentEvent& lead,
                      routing::RoutingState& state);

// Every rep who has held the lead (ASSIGNED entries of its history).
std::set<std::string> PreviousHolders(const v1::AssignmentEvent& lead);

// --- Decisions on a stored record ---------------------------------------------------------------
// `event_id` holds the lead's record `record` (an assignment: a nurture record is
// FailedPrecondition); `state` is the routing counters read with it. On success: the update and
// the Writes (the record replaced, keeping its first message; the counters; SLA and queue
// changes; the events for the log). Writes are empty when nothing changed.
struct LeadChange {
  LeadUpdate update;
  Writes writes;
};
absl::StatusOr<LeadChange> DecideAccept(const config::Config& config, const core::EventId& event_id,
                                        const v1::EventOutcome& record, const core::RepId& rep_id,
                                        const std::string& actor, routing::RoutingState state,
                                        core::TimePoint now);
// A return re-routes the lead (or recycles it at max_attempts).
absl::StatusOr<LeadChange> DecideReturn(const config::Config& config, const core::EventId& event_id,
                                        const v1::EventOutcome& record, const core::RepId& rep_id,
                                        v1::ReturnReason reason, const std::string& note,
                                        const std::string& actor, routing::RoutingState state,
                                        core::TimePoint now);
absl::StatusOr<LeadChange> DecideConvert(const config::Config& config,
                                         const core::EventId& event_id,
                                         const v1::EventOutcome& record, const core::RepId& rep_id,
                                         double value, const std::string& note,
                                         const std::string& actor, routing::RoutingState state,
                                         core::TimePoint now);
// The lead `lead_id` came due in the SLA index. Expires and re-routes it when it still waits for
// acceptance past its deadline; else only drops a stale deadline (accepted, returned, converted)
// or keeps a newer one (re-routed meanwhile). Never an error for a lead in another state.
absl::StatusOr<LeadChange> DecideExpire(const config::Config& config, const core::LeadId& lead_id,
                                        const core::EventId& event_id,
                                        const v1::EventOutcome& record, routing::RoutingState state,
                                        core::TimePoint now);

}  // namespace leadrouter::decide
