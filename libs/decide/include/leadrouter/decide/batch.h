#pragma once

// Deciding new leads, and the unassigned queue again, from a snapshot of the shared state.
//
// A batch is decided in three steps so that any store can serve it with two reads:
//   1. PlanBatch: the distinct event ids and who each lead is (its dedupe keys). Pure.
//   2. The store reads the routing counters, the records of the batch's event ids and the values
//      of the plan's keys; then (EarlierEventIds) the records the person keys point at.
//   3. DecideBatch: dedupe (same person -> DUPLICATE of the live lead; account owner), qualify,
//      route, in input order, each decision seeing the counters and keys of the ones before.
//      Returns the outcomes and the Writes that the store applies atomically.
// The daemon runs this against Redis with optimistic concurrency (decide again when another
// instance committed in between); the simulator against a MemoryStore. Pure and deterministic
// for a given snapshot and `now`; thread-safe (no shared state).

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/decide/writes.h"
#include "leadrouter/dedupe/dedupe.h"
#include "leadrouter/qualify/qualifier.h"
#include "leadrouter/routing/engine.h"
#include "leadrouter/v1/assignment.pb.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::decide {

// The dedupe key maker of a config: null when config.dedupe is off.
std::unique_ptr<const dedupe::KeyMaker> KeyMakerFor(const config::Config& config);

// What became of one lead of a batch.
struct LeadResult {
  // Never null: an assignment (ASSIGNED, or UNASSIGNED when nobody was eligible and the lead
  // was queued; DUPLICATE for a person seen before) or a nurture record.
  std::shared_ptr<const v1::EventOutcome> outcome;
  // True when the event id already had a stored outcome (a redelivery or a re-published event):
  // nothing was decided, the stored outcome is returned as it was.
  bool replayed = false;
  // How dedupe matched a newly decided lead: kPerson when the event joined a live lead of the
  // same person (a DUPLICATE outcome for that lead's owner), kAccount when it was routed to the
  // owner of its account.
  enum class Match { kNone, kPerson, kAccount };
  Match match = Match::kNone;
  // The routing decision of a newly routed lead (its candidates and why each was skipped), for
  // reports that count more than the trace says; nullopt otherwise.
  std::optional<routing::RoutingDecision> route;
};

struct KeyRef {
  Writes::Key::Kind kind = Writes::Key::Kind::kPerson;
  std::string hmac;
};

struct BatchPlan {
  std::vector<std::string> event_ids;        // distinct, in first-occurrence order
  std::vector<const v1::LeadEvent*> events;  // events[u]: the first event of event_ids[u]
  std::vector<size_t> distinct_of;           // input index -> index into event_ids
  std::vector<dedupe::Identity> identities;  // per distinct event; empty without dedupe
  std::vector<KeyRef> keys;                  // the dedupe keys to read, each once
  // Per distinct event, its qualification when QualifyPlan ran (DecideBatch qualifies the
  // leads it decides itself otherwise): qualification reads nothing shared, so a caller with
  // optimistic concurrency does it once, before its load, and not again on every attempt.
  std::vector<std::optional<qualify::Decision>> qualifications;
};
// `leads` must outlive the plan. `key_maker` null: no dedupe.
BatchPlan PlanBatch(const std::vector<const v1::LeadEvent*>& leads,
                    const dedupe::KeyMaker* key_maker);
// Qualifies every distinct event of `plan` against config.qualifier; returns the seconds spent.
double QualifyPlan(const config::Config& config, BatchPlan& plan);

// The state a batch is decided on.
struct BatchSnapshot {
  routing::RoutingState state;
  // records[u]: the stored outcome of plan.event_ids[u], null when it has none.
  std::vector<std::shared_ptr<const v1::EventOutcome>> records;
  // key_values[k]: the value of plan.keys[k], nullopt when the key does not exist.
  std::vector<std::optional<std::string>> key_values;
  // The stored outcomes of EarlierEventIds (absent ones: expired, not live).
  std::unordered_map<std::string, std::shared_ptr<const v1::EventOutcome>> earlier;
};

// The event ids outside the batch that the read person keys point at, sorted and distinct:
// their records tell whether the person's lead is still live.
std::vector<std::string> EarlierEventIds(const BatchPlan& plan,
                                         const std::vector<std::optional<std::string>>& key_values);

// What of the routing state a decision read: the pools tried and the reps considered for every
// lead it routed (RoutingDecision::pools_tried and ::candidates: the engine reads the counters
// of nothing else). Leads it did not route (replays, duplicates, nurture) read none of it.
struct StateReads {
  std::set<std::string> pools;
  std::set<std::string> reps;
};

struct BatchDecision {
  std::vector<LeadResult> results;  // one per input lead, in input order
  Writes writes;                    // empty when every event was a replay
  StateReads reads;
  double qualify_seconds = 0;  // time spent in the qualifier (for the stage metrics)
};
// A second occurrence of an event id within the batch is a replay of the first.
BatchDecision DecideBatch(const config::Config& config, const dedupe::KeyMaker* key_maker,
                          const BatchPlan& plan, const BatchSnapshot& snapshot,
                          core::TimePoint now);

// --- The unassigned queue -----------------------------------------------------------------------

// Who each queued lead is, computed once for the read and the decision: identities[i] belongs
// to records[i] (empty for a null or resolved record, or without dedupe), and `keys` are the
// account keys to read for their owners, in record order.
struct RetryPlan {
  std::vector<dedupe::Identity> identities;
  std::vector<KeyRef> keys;
};
// `records` are the queued leads' (UNASSIGNED) records; `key_maker` null: no dedupe.
RetryPlan PlanRetry(const std::vector<std::shared_ptr<const v1::EventOutcome>>& records,
                    const dedupe::KeyMaker* key_maker);

struct RetryDecision {
  // The leads that found a rep now (their record is replaced; they leave the queue).
  std::vector<std::shared_ptr<const v1::EventOutcome>> assigned;
  Writes writes;
};
// Routes the queued leads again, in order. `event_ids[i]` is queued with record `records[i]`
// (null when it expired, or no longer UNASSIGNED: it leaves the queue); `plan` is
// PlanRetry(records) and `key_values[k]` the value of plan.keys[k]. An account owner who became
// available takes the lead; a lead queued after a return or expiry never goes back to a rep who
// held it.
RetryDecision DecideRetry(const config::Config& config, const dedupe::KeyMaker* key_maker,
                          const std::vector<std::string>& event_ids,
                          const std::vector<std::shared_ptr<const v1::EventOutcome>>& records,
                          const RetryPlan& plan,
                          const std::vector<std::optional<std::string>>& key_values,
                          routing::RoutingState state, core::TimePoint now);

}  // namespace leadrouter::decide
