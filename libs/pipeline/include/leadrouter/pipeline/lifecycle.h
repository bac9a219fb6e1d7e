#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/core/ids.h"
#include "leadrouter/decide/lifecycle.h"
#include "leadrouter/routing/engine.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/v1/assignment.pb.h"
#include "leadrouter/v1/qualification.pb.h"

namespace leadrouter::pipeline {

// The lifecycle decisions (decide/lifecycle.h), under their old names for the pipeline's callers.
using decide::AcceptResult;
using decide::ApplyAccept;
using decide::ApplyConvert;
using decide::ApplyExpire;
using decide::ApplyReturn;
using decide::LeadUpdate;
using decide::PreviousHolders;
using decide::Reroute;
using decide::RerouteResult;

// --- Against Redis -------------------------------------------------------------------------------

// Runs the lifecycle decisions (decide::Decide*) against the shared state: loads the lead (by
// lead id) and the routing counters, decides the transition in memory, and commits the lead's new
// state, the counters, the SLA deadlines, the unassigned queue and the events (into the shared
// assignment log) in one compare-and-set; on contention it loads and decides again. So two
// instances never both expire, return or re-route one lead, and re-routing respects fairness and
// caps like any routing. Errors as the pure transitions, plus NotFound (unknown lead id),
// Unavailable (Redis), Aborted (contention did not settle). Thread-compatible: one per thread.
class LeadLifecycle {
 public:
  LeadLifecycle(store::AssignmentStore& store, std::shared_ptr<const config::Config> config,
                const core::Clock& clock);

  absl::StatusOr<LeadUpdate> Accept(const core::LeadId& lead_id, const core::RepId& rep_id,
                                    const std::string& actor);
  absl::StatusOr<LeadUpdate> Return(const core::LeadId& lead_id, const core::RepId& rep_id,
                                    v1::ReturnReason reason, const std::string& note,
                                    const std::string& actor);
  absl::StatusOr<LeadUpdate> Convert(const core::LeadId& lead_id, const core::RepId& rep_id,
                                     double value, const std::string& note,
                                     const std::string& actor);
  // Expires up to `limit` leads whose SLA deadline has passed and re-routes them. Any number of
  // instances may call it concurrently: each lead expires once.
  absl::StatusOr<LeadUpdate> ExpireDue(size_t limit);
  // The lead's current state: status, rep, trace, history. NotFound for an unknown lead id.
  absl::StatusOr<v1::AssignmentEvent> Explain(const core::LeadId& lead_id);

 private:
  // Load, `decide`, commit; retried on contention. `decide` gets the lead's event id, its record
  // and the routing counters, and returns the change or an error that ends the operation
  // (nothing committed).
  using Decision = std::function<absl::StatusOr<decide::LeadChange>(
      const core::EventId& event_id, const v1::EventOutcome& record, routing::RoutingState state)>;
  absl::StatusOr<LeadUpdate> Transition(const core::LeadId& lead_id, const Decision& decision);
  // The event id whose record holds the lead; NotFound when the lead is unknown.
  absl::StatusOr<core::EventId> RecordOf(const core::LeadId& lead_id);
  static absl::Status UnknownLead(const core::LeadId& lead_id);

  store::AssignmentStore& store_;
  const std::shared_ptr<const config::Config> config_;
  const core::Clock& clock_;
};

}  // namespace leadrouter::pipeline
