#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/api/assignment_hub.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/routing/router.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::pipeline {

// The result for one lead of a batch.
struct AssignmentOutcome {
  api::SharedAssignment assignment;
  // True when the event id already had a stored assignment (a redelivery or a re-published
  // event): nothing was routed, the stored assignment is returned as it was.
  bool replayed = false;
};

// Turns validated leads into assignments, exactly once per event id across every instance:
// reads the rotation cursor and the stored outcomes of the batch's event ids in one round trip,
// decides with the pure router, and writes every new assignment plus the advanced cursor in one
// atomic compare-and-set script. When another instance moved the cursor (or stored one of these
// events) first, nothing is written and the batch is decided again from fresh state.
// Thread-compatible: one instance per pipeline thread.
class Assigner {
 public:
  Assigner(store::AssignmentStore& store, const config::Config& config, const core::Clock& clock);

  // One outcome per input, in input order. A second occurrence of an event id within the batch
  // is a replay of the first. Errors: Unavailable (Redis), Aborted (contention did not settle
  // within the retry budget), DataLoss (a stored record does not parse).
  absl::StatusOr<std::vector<AssignmentOutcome>> AssignBatch(
      const std::vector<const v1::LeadEvent*>& leads);

  // Stable ids derived from the tenant and event id: the same on every instance and replay.
  static std::string LeadIdFor(const std::string& tenant, const std::string& event_id);
  static std::string AssignmentIdFor(const std::string& tenant, const std::string& event_id);

 private:
  v1::AssignmentEvent BuildAssignment(const v1::LeadEvent& lead, const routing::Route& route) const;

  store::AssignmentStore& store_;
  const config::Config& config_;
  const core::Clock& clock_;
  routing::Router router_;
};

}  // namespace leadrouter::pipeline
