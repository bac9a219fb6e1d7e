#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/routing/engine.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/v1/assignment.pb.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::pipeline {

// What became of one lead of a batch.
struct LeadResult {
  // Never null: an assignment (ASSIGNED, or UNASSIGNED when nobody was eligible and the lead
  // was queued) or a nurture record.
  std::shared_ptr<const v1::EventOutcome> outcome;
  // True when the event id already had a stored outcome (a redelivery or a re-published event):
  // nothing was decided, the stored outcome is returned as it was.
  bool replayed = false;
};

// Decides each validated lead exactly once per event id across every instance: qualifies it
// against the ICP and routes the qualified ones with the routing engine (both pure), and stores
// every outcome under its event id together with the routing counters it moved.
//
// One round trip loads the shared routing state and the stored outcomes of the batch's event
// ids; the batch is decided in memory; one atomic compare-and-set script writes the new outcomes,
// the changed counters and the unassigned-queue changes. When another instance committed in
// between, nothing is written and the batch is decided again from fresh state, so fairness and
// caps hold across any number of instances. Thread-compatible: one instance per thread.
class Assigner {
 public:
  Assigner(store::AssignmentStore& store, std::shared_ptr<const config::Config> config,
           const core::Clock& clock);

  // One result per input, in input order. A second occurrence of an event id within the batch
  // is a replay of the first. Errors: Unavailable (Redis), Aborted (contention did not settle
  // within the retry budget), DataLoss (a stored record does not parse).
  absl::StatusOr<std::vector<LeadResult>> DecideBatch(
      const std::vector<const v1::LeadEvent*>& leads);

  // Routes up to `limit` queued (UNASSIGNED) leads again, oldest first; returns the ones that
  // found a rep now (their stored outcome is replaced and they leave the queue) and the queue's
  // depth after the attempt.
  struct RetryResult {
    std::vector<std::shared_ptr<const v1::EventOutcome>> assigned;
    int64_t queue_depth = 0;
  };
  absl::StatusOr<RetryResult> RetryUnassigned(size_t limit);

  // Stable ids derived from the tenant and event id: the same on every instance and replay.
  static std::string LeadIdFor(const std::string& tenant, const std::string& event_id);
  static std::string AssignmentIdFor(const std::string& tenant, const std::string& event_id);

 private:
  // The outcome for a lead without a stored one; routing effects go into `state`.
  v1::EventOutcome Decide(const v1::LeadEvent& lead, routing::RoutingState& state) const;
  // Fills `a` (status, rep, territory, pool, trace, the counters it moved) from a decision.
  void ApplyRoute(const routing::RoutingDecision& route, const routing::RoutingState& before,
                  const routing::RoutingState& after, v1::AssignmentEvent& a) const;

  store::AssignmentStore& store_;
  const std::shared_ptr<const config::Config> config_;
  const core::Clock& clock_;
};

// The qualification decision as its protobuf message.
v1::Qualification ToProto(const qualify::Decision& decision);

// What routing looks at in a lead: its company facts, its qualification segments, rep-sourcing,
// and the skills it requires (attributes.required_skills, comma-separated). Pure; the daemon and
// the simulator share it.
routing::LeadFacts LeadFactsFor(const v1::LeadEvent& lead,
                                const google::protobuf::RepeatedPtrField<std::string>& segments);

// "LEAD_SOURCE_KIND_PARTNER" -> "PARTNER".
std::string ShortSourceKind(v1::LeadSourceKind kind);

// The routing counters <-> the fields of the Redis routing hash
// ("rep:<id>:open", "pool:<name>:credit:<rep>", ...). Unknown fields are ignored.
routing::RoutingState StateFromFields(const std::map<std::string, std::string>& fields);
std::map<std::string, std::string> FieldsFromState(const routing::RoutingState& state);

}  // namespace leadrouter::pipeline
