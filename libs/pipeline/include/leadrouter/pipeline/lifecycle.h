#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/routing/engine.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/v1/assignment.pb.h"
#include "leadrouter/v1/qualification.pb.h"

namespace leadrouter::pipeline {

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

// --- Pure transitions ---------------------------------------------------------------------------
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
absl::StatusOr<AcceptResult> ApplyAccept(v1::AssignmentEvent& lead, const std::string& rep_id,
                                         const std::string& actor, core::TimePoint now);
// ASSIGNED | ACCEPTED -> RETURNED by its holder (reason required; note required for OTHER, at
// most 2,000 bytes). The holder's open count drops by one.
absl::StatusOr<v1::AssignmentEvent> ApplyReturn(v1::AssignmentEvent& lead,
                                                const std::string& rep_id, v1::ReturnReason reason,
                                                const std::string& note, const std::string& actor,
                                                core::TimePoint now, routing::RoutingState& state);
// ASSIGNED | ACCEPTED -> CONVERTED by its holder (value >= 0). The holder's open count drops by
// one and its recent conversions (for conversion_weighted pools) grow by one.
absl::StatusOr<v1::AssignmentEvent> ApplyConvert(v1::AssignmentEvent& lead,
                                                 const std::string& rep_id, double value,
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

// --- Against Redis -------------------------------------------------------------------------------

// Runs the transitions against the shared state: loads the lead (by lead id) and the routing
// counters, applies the transition in memory, and commits the lead's new state, the counters,
// the SLA deadlines, the unassigned queue and the events (into the shared assignment log) in one
// compare-and-set; on contention it loads and decides again. So two instances never both
// expire, return or re-route one lead, and re-routing respects fairness and caps like any
// routing. Errors as the pure transitions, plus NotFound (unknown lead id), Unavailable
// (Redis), Aborted (contention did not settle). Thread-compatible: one per thread.
class LeadLifecycle {
 public:
  LeadLifecycle(store::AssignmentStore& store, std::shared_ptr<const config::Config> config,
                const core::Clock& clock);

  absl::StatusOr<LeadUpdate> Accept(const std::string& lead_id, const std::string& rep_id,
                                    const std::string& actor);
  absl::StatusOr<LeadUpdate> Return(const std::string& lead_id, const std::string& rep_id,
                                    v1::ReturnReason reason, const std::string& note,
                                    const std::string& actor);
  absl::StatusOr<LeadUpdate> Convert(const std::string& lead_id, const std::string& rep_id,
                                     double value, const std::string& note,
                                     const std::string& actor);
  // Expires up to `limit` leads whose SLA deadline has passed and re-routes them. Any number of
  // instances may call it concurrently: each lead expires once.
  absl::StatusOr<LeadUpdate> ExpireDue(size_t limit);
  // The lead's current state: status, rep, trace, history. NotFound for an unknown lead id.
  absl::StatusOr<v1::AssignmentEvent> Explain(const std::string& lead_id);

 private:
  // Load, `change`, commit; retried on contention. `change` returns the update or an error that
  // ends the operation (nothing committed).
  using Change = std::function<absl::StatusOr<LeadUpdate>(v1::AssignmentEvent& lead,
                                                          routing::RoutingState& state,
                                                          store::AssignmentStore::CommitRequest&)>;
  absl::StatusOr<LeadUpdate> Transition(const std::string& lead_id, const Change& change);
  // The event id whose record holds the lead; NotFound when the lead is unknown.
  absl::StatusOr<std::string> RecordOf(const std::string& lead_id);
  static absl::Status UnknownLead(const std::string& lead_id);

  store::AssignmentStore& store_;
  const std::shared_ptr<const config::Config> config_;
  const core::Clock& clock_;
};

}  // namespace leadrouter::pipeline
