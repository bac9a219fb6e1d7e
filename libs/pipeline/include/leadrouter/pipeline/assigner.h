#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/dedupe/dedupe.h"
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
  // How dedupe matched a newly decided lead: kPerson when the event joined a live lead of the
  // same person (a DUPLICATE outcome for that lead's owner), kAccount when it was routed to the
  // owner of its account.
  enum class Match { kNone, kPerson, kAccount };
  Match match = Match::kNone;
};

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

  // Where the last DecideBatch spent its time, summed over its attempts, in seconds.
  struct StageTimings {
    double dedupe = 0;        // identities, and fetching the leads person keys point at
    double qualify = 0;       // the qualifier's evaluation of each new lead (pure)
    double route = 0;         // routing and building each outcome and the commit (pure)
    double redis_load = 0;    // the state / records / keys load
    double redis_commit = 0;  // the compare-and-set script
  };
  const StageTimings& last_timings() const { return timings_; }

  // Stable ids derived from the tenant and event id: the same on every instance and replay.
  static std::string LeadIdFor(const std::string& tenant, const std::string& event_id);
  static std::string AssignmentIdFor(const std::string& tenant, const std::string& event_id);

 private:
  // The outcome for a lead without a stored one; routing effects go into `state`. Adds the time
  // spent qualifying to `*qualify_seconds` when given.
  v1::EventOutcome Decide(const v1::LeadEvent& lead,
                          const std::optional<dedupe::AccountOwner>& owner,
                          routing::RoutingState& state, double* qualify_seconds = nullptr) const;
  // The DUPLICATE outcome of `lead` joining the live lead `existing` (an assignment).
  v1::EventOutcome DecideDuplicate(const v1::LeadEvent& lead, const v1::AssignmentEvent& existing,
                                   const dedupe::PersonCandidate& match) const;
  // The person and account keys a decided lead claims (into `commit` and `known`).
  void ClaimKeys(const dedupe::Identity& identity, const std::string& record_event_id,
                 const v1::AssignmentEvent& decided, dedupe::KnownKeys& known,
                 store::AssignmentStore::CommitRequest& commit) const;

  store::AssignmentStore& store_;
  const std::shared_ptr<const config::Config> config_;
  const core::Clock& clock_;
  const std::unique_ptr<const dedupe::KeyMaker> key_maker_;  // null when dedupe is off
  StageTimings timings_;
};

// The actor of every transition leadrouter makes itself (routing, re-routing, expiry).
inline constexpr std::string_view kRouterActor = "leadrouter";

// Fills `a` from a routing decision made at `now`: status (ASSIGNED, or UNASSIGNED when nobody
// was eligible), rep, territory, pool, reason, config version, assigned_at / event_time, the
// accept-SLA deadline (config.lifecycle, ASSIGNED only), attempt (1 when unset), a history
// entry, and the trace: the qualification step is kept, routing steps are replaced by this
// decision's (account owner, territories, pools, candidates, counters moved). Pure.
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
// an id derived from its own event id. Deterministic and pure.
void StampMessageIdentity(v1::AssignmentEvent& a);

// Before a stored outcome's assignment moves on: keeps the message first published for the event
// (EventOutcome.first_message), once, so a replay of the event re-publishes exactly that.
void KeepFirstMessage(v1::EventOutcome& outcome);

// The message first published for the event of `outcome`: first_message once the lead has moved
// on, else its assignment. Requires outcome.has_assignment().
const v1::AssignmentEvent& FirstMessage(const v1::EventOutcome& outcome);

google::protobuf::Timestamp ToTimestamp(core::TimePoint t);

// The qualification decision as its protobuf message.
v1::Qualification ToProto(const qualify::Decision& decision);

// What routing looks at in a lead: its company facts, its qualification segments, rep-sourcing,
// and the skills it requires (attributes.required_skills, comma-separated). Pure; the daemon and
// the simulator share it.
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

// The routing counters <-> the fields of the Redis routing hash
// ("rep:<id>:open", "pool:<name>:credit:<rep>", ...). Unknown fields are ignored.
routing::RoutingState StateFromFields(const std::map<std::string, std::string>& fields);
std::map<std::string, std::string> FieldsFromState(const routing::RoutingState& state);
// The fields of FieldsFromState(after) that differ from `before` (a loaded hash): what a commit
// must write.
std::map<std::string, std::string> ChangedFields(const std::map<std::string, std::string>& before,
                                                 const routing::RoutingState& after);

}  // namespace leadrouter::pipeline
