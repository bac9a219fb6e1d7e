#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/routing/router.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/v1/assignment.pb.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::pipeline {

// What became of one lead of a batch.
struct LeadResult {
  // Never null: an assignment (the lead qualified and was routed) or a nurture record.
  std::shared_ptr<const v1::EventOutcome> outcome;
  // True when the event id already had a stored outcome (a redelivery or a re-published event):
  // nothing was decided, the stored outcome is returned as it was.
  bool replayed = false;
};

// Decides each validated lead exactly once per event id across every instance: qualifies it
// against the ICP (pure), routes the qualified ones, and stores every outcome under its event id.
// Reads the rotation cursor and the stored outcomes of the batch's event ids in one round trip,
// decides with the pure qualifier and router, and writes all new outcomes plus the advanced
// cursor in one atomic compare-and-set script. When another instance moved the cursor (or
// stored one of these events) first, nothing is written and the batch is decided again from
// fresh state. Thread-compatible: one instance per pipeline thread.
class Assigner {
 public:
  Assigner(store::AssignmentStore& store, std::shared_ptr<const config::Config> config,
           const core::Clock& clock);

  // One result per input, in input order. A second occurrence of an event id within the batch
  // is a replay of the first. Errors: Unavailable (Redis), Aborted (contention did not settle
  // within the retry budget), DataLoss (a stored record does not parse).
  absl::StatusOr<std::vector<LeadResult>> DecideBatch(
      const std::vector<const v1::LeadEvent*>& leads);

  // Stable ids derived from the tenant and event id: the same on every instance and replay.
  static std::string LeadIdFor(const std::string& tenant, const std::string& event_id);
  static std::string AssignmentIdFor(const std::string& tenant, const std::string& event_id);

 private:
  // The outcome for a lead that has none stored yet; advances `slot` when routing used it.
  v1::EventOutcome Decide(const v1::LeadEvent& lead, int64_t& slot) const;

  store::AssignmentStore& store_;
  const std::shared_ptr<const config::Config> config_;
  const core::Clock& clock_;
  routing::Router router_;
};

// The qualification decision as its protobuf message.
v1::Qualification ToProto(const qualify::Decision& decision);

}  // namespace leadrouter::pipeline
