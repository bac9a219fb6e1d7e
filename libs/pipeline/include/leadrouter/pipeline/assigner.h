#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/decide/batch.h"
#include "leadrouter/decide/outcome.h"
#include "leadrouter/decide/routing_fields.h"
#include "leadrouter/decide/writes.h"
#include "leadrouter/dedupe/dedupe.h"
#include "leadrouter/routing/engine.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/v1/assignment.pb.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::pipeline {

using decide::LeadResult;

// Decides each validated lead exactly once per event id across every instance: matches it
// against earlier leads of the same person and against its account's owner (dedupe), qualifies
// it against the ICP and routes the qualified ones with the routing engine (all pure), and
// stores every outcome under its event id together with the routing counters it moved and the
// dedupe keys it claimed.
//
// Dedupe (when config.dedupe.enabled): a lead whose e-mail or phone belongs to a live lead (one
// still ASSIGNED, ACCEPTED or UNASSIGNED) stored within the person window becomes a DUPLICATE
// outcome of that lead, for its current owner, and moves no counter. A qualified lead of an
// account with an owner is routed to the owner when eligible. Person and account keys are
// written in the same compare-and-set as the outcome, so two instances deciding the same new
// person at once produce one assignment and one duplicate.
//
// The decision itself is decide::DecideBatch (pure, shared with the simulator); this class is
// its I/O against Redis. One round trip loads the shared routing state and the stored outcomes of
// the batch's event ids (a second one the leads person keys point at, when some person was seen
// before); the batch is decided in memory; one atomic compare-and-set script writes the new
// outcomes, the changed counters and the unassigned-queue changes, guarded by exactly what the
// decision read (the versions of the pools and reps it routed over, the dedupe keys, the earlier
// records its duplicates join: store::AssignmentStore::CommitRequest::Guards). When another
// instance wrote any of that in between, nothing is written and the batch is decided again from
// fresh state, so fairness and caps hold across any number of instances; commits over other
// pools, reps and people do not disturb it. Qualification reads nothing shared and runs once,
// before the load. Thread-compatible: one instance per thread.
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

  // Where the last DecideBatch spent its time, summed over its attempts, in seconds, and how
  // often it had to decide again.
  struct StageTimings {
    double dedupe = 0;         // identities, and fetching the leads person keys point at
    double qualify = 0;        // the qualifier's evaluation of each new lead (pure)
    double route = 0;          // routing and building each outcome and the commit (pure)
    double redis_load = 0;     // the state / records / keys load
    double redis_commit = 0;   // the compare-and-set script
    int commit_conflicts = 0;  // commits refused (state changed since the load): decided again
  };
  const StageTimings& last_timings() const { return timings_; }

  // Stable ids derived from the tenant and event id: the same on every instance and replay.
  static std::string LeadIdFor(const std::string& tenant, const std::string& event_id);
  static std::string AssignmentIdFor(const std::string& tenant, const std::string& event_id);

 private:
  store::AssignmentStore& store_;
  const std::shared_ptr<const config::Config> config_;
  const core::Clock& clock_;
  const std::unique_ptr<const dedupe::KeyMaker> key_maker_;  // null when dedupe is off
  StageTimings timings_;
};

// The decision core's pieces, under their old names for the pipeline's callers.
using decide::ApplyRoute;
using decide::ChangedFields;
using decide::FieldsFromState;
using decide::FirstMessage;
using decide::KeepFirstMessage;
using decide::kRouterActor;
using decide::LeadFactsFor;
using decide::ParseStoredOutcome;
using decide::ShortEnumName;
using decide::ShortSourceKind;
using decide::StampMessageIdentity;
using decide::ToProto;
using decide::ToTimestamp;

// The routing counters of a loaded routing hash, or DataLoss naming a corrupt field
// (decide::StateFromFields).
using decide::StateFromFields;

// What a decision's Writes are as a commit of the Redis store: key names from `keys`, records
// serialized once (compressed by the store; a logged assignment of a record is logged by
// reference to it), the counters that differ from the loaded hash `loaded_state`, records' and
// log's bounds from `config`. `expected_version` is the version the decision was made on (the
// whole-tenant guard; DecideBatch sets finer guards).
store::AssignmentStore::CommitRequest ToCommitRequest(
    const decide::Writes& writes, const store::KeySchema& keys,
    const std::map<std::string, std::string>& loaded_state, const config::Config& config,
    int64_t expected_version);

}  // namespace leadrouter::pipeline
